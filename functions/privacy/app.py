"""Privacy routes: a shopper's recommendations preference, their status, erasure and its receipt,
a data export and its download; signed anonymous ids and an anonymous visitor's preference,
status, erasure and data export.

When caller authorization is enabled (template parameter ``AuthIssuerUrl``), API Gateway's JWT
authorizer rejects requests without a valid token (401) and this function lets a caller act
only for the user id of their token (403 otherwise; another shopper's export receipt is 404, so
that a receipt id reveals nothing). The anonymous visitor's routes are authorized by the signed
anonymous id in the ``X-Recs-Visitor`` header (`recs.visitor_ids`; 401 naming the header
otherwise), never by a token. Responses and logs carry no raw id.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from recs.api.errors import error_responses, register_error_handlers
from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.auth.caller import Caller
from recs.config.privacy import PrivacySettings
from recs.contracts.events import Identifier
from recs.contracts.privacy import (
    AnonymousId,
    ErasureBody,
    ErasureReceipt,
    ExportReceipt,
    PreferencesBody,
    PreferencesSet,
    PrivacyStatus,
)
from recs.errors import NotFoundError
from recs.privacy.exports import Download
from recs.privacy.receipts import RECEIPT_ID_PATTERN
from recs.visitor_ids import VISITOR_HEADER
from recs.wiring import privacy as wiring

logger = Logger()
metrics = Metrics()
settings = PrivacySettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
service, exports, visitor_ids = wiring.privacy_services(settings)
policy = wiring.privacy_policy(settings)
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app, logger)

UserId = Annotated[Identifier, Path(alias="userId", description="The shopper's user id.")]
ReceiptId = Annotated[str, Path(alias="receiptId", pattern=RECEIPT_ID_PATTERN, description="From POST.")]


#: What each error status means on these routes (the body is always `ErrorBody`).
ERROR_MEANINGS = {
    400: "Invalid parameters or body; `errors` names each bad field.",
    401: "No valid token (authorization enabled); on the visitor routes, no signed anonymous id in "
    "`X-Recs-Visitor` (`errors` names the header).",
    403: "The token belongs to another shopper.",
    404: "No such receipt (or, for an export or a visitor's receipt, not the caller's).",
    415: "The body is not application/json.",
    503: "A store or the cache is unavailable; retry (every route is idempotent).",
}


def _errors(*statuses: int) -> dict[int, Any]:
    return error_responses({status: ERROR_MEANINGS[status] for status in statuses})


def _json(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    """A response whose body is ``model`` as JSON (the users' and the visitors' routes share them)."""
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}


_ERASURE_ACCEPTED = _json("Accepted: poll the receipt.", ErasureReceipt)
_EXPORT_ACCEPTED = _json(
    "Accepted: poll the receipt (a pending export is returned, not repeated).", ExportReceipt
)
_EXPORT_RECEIPT: dict[int, OpenAPIResponse] = {
    200: _json("The receipt; `url` when ready.", ExportReceipt),
    410: _json("Gone: the export's lifetime is over; request a new one.", ExportReceipt),
}


#: Per kind of receipt: the log line and the metric of each request for one.
_REQUESTED = {
    "erasure": ("erasure requested", "ErasureRequests"),
    "export": ("export requested", "ExportRequests"),
}


def _accepted(
    kind: Literal["erasure", "export"], receipt: dict[str, Any], polled_at: str
) -> Response[dict[str, Any]]:
    """202 with the receipt and its URL to poll (``polled_at/<receipt id>``) as ``Location``; the
    request is logged with the receipt id (never a raw id) and counted."""
    message, metric = _REQUESTED[kind]
    logger.info(message, extra={"receiptId": receipt["receiptId"]})
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=receipt,
        headers={"Location": f"{polled_at}/{receipt['receiptId']}"},
    )


def _caller() -> Caller | None:
    """The caller API Gateway's JWT authorizer verified (None without one)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    return policy.gateway_caller(claims)


@app.put(
    "/api/users/<userId>/preferences",
    summary="Set a shopper's recommendations preference (opt-out / opt-in)",
    operation_id="putPreferences",
    tags=["privacy"],
    responses={
        200: {"description": "Stored; effective on the next request."},
        **_errors(400, 401, 403, 415, 503),
    },
)
def put_preferences(
    user_id: UserId, body: Annotated[PreferencesBody, Body(description="The new preference.")]
) -> PreferencesSet:
    policy.require(_caller(), user_id)
    result = service.set_preference(user_id, body.preferences.recommendations)
    metrics.add_metric(
        name="OptOuts" if not body.preferences.recommendations else "OptIns", unit=MetricUnit.Count, value=1
    )
    return PreferencesSet.model_validate(result)


@app.get(
    "/api/users/<userId>/privacy",
    summary="A shopper's privacy status: preference and latest erasure",
    operation_id="getPrivacyStatus",
    tags=["privacy"],
    responses={200: {"description": "The status."}, **_errors(400, 401, 403, 503)},
)
def get_status(user_id: UserId) -> PrivacyStatus:
    policy.require(_caller(), user_id)
    return PrivacyStatus.model_validate(service.status(user_id))


@app.post(
    "/api/users/<userId>/erasure",
    summary="Erase a shopper from every store",
    description="Removes the shopper from the live stores at once and returns a receipt; the event "
    "lake and the model artifacts are purged by the next training workflow run (docs/privacy.md).",
    operation_id="requestErasure",
    tags=["privacy"],
    responses={
        202: _ERASURE_ACCEPTED,
        **_errors(400, 401, 403, 415, 503),
    },
)
def request_erasure(
    user_id: UserId, body: Annotated[ErasureBody | None, Body(description="Optional.")] = None
) -> Response[dict[str, Any]]:
    policy.require(_caller(), user_id)
    receipt = service.request_erasure(user_id, body.anonIds if body else ())
    return _accepted("erasure", receipt, "/api/erasures")


@app.get(
    "/api/erasures/<receiptId>",
    summary="An erasure receipt",
    operation_id="getErasureReceipt",
    tags=["privacy"],
    responses={200: {"description": "The receipt."}, **_errors(400, 401, 403, 404, 503)},
)
def get_receipt(
    receipt_id: ReceiptId,
) -> ErasureReceipt:
    receipt = service.receipt(receipt_id)
    policy.require_owner(_caller(), lambda subject: service.is_subject_of(receipt, subject))
    return ErasureReceipt.model_validate(receipt.public())


@app.post(
    "/api/users/<userId>/export",
    summary="Export a shopper's data",
    description="Starts writing the shopper's data (preferences, session, current lists with reasons, "
    "their events in the lake) to a JSON document and returns a receipt; poll it for a download URL. "
    "The export is deleted when `expiresAt` passes (docs/privacy.md).",
    operation_id="requestExport",
    tags=["privacy"],
    responses={
        202: _EXPORT_ACCEPTED,
        **_errors(400, 401, 403, 503),
    },
)
def request_export(user_id: UserId) -> Response[dict[str, Any]]:
    policy.require(_caller(), user_id)
    return _accepted("export", exports.request(user_id), "/api/exports")


@app.get(
    "/api/exports/<receiptId>",
    summary="An export receipt, with a short-lived download URL once ready",
    operation_id="getExport",
    tags=["privacy"],
    responses={
        **_EXPORT_RECEIPT,
        **_errors(400, 401, 404, 503),
    },
)
def get_export(
    receipt_id: ReceiptId,
) -> Response[dict[str, Any]]:
    receipt = exports.user_receipt(receipt_id)
    policy.require_owner(_caller(), lambda subject: exports.is_owner(receipt, subject), hide=True)
    return _download_response(exports.download(receipt))


def _download_response(answer: Download) -> Response[dict[str, Any]]:
    return Response(
        status_code=answer.status_code,
        content_type=content_types.APPLICATION_JSON,
        body=answer.body,
        # A download URL is a credential for a few minutes: nothing along the way keeps it.
        headers={"Cache-Control": "no-store"},
    )


def _visitor() -> str:
    """The caller's signed anonymous id (401 naming the header when missing, unsigned or forged)."""
    return visitor_ids.verify(app.current_event.headers.get(VISITOR_HEADER))


@app.post(
    "/api/visitors",
    summary="Issue a signed anonymous id",
    description="The tracker's anonymous id (`anonId`). Signed by the API, it lets its holder (and only "
    "them) opt out, export or erase the visitor's data with the `/api/visitor/...` routes, in the "
    "`X-Recs-Visitor` header. It is a secret of the browser: never put it in a path, a log or an "
    "analytics tool.",
    operation_id="issueVisitorId",
    tags=["privacy"],
    responses={201: {"description": "A new signed anonymous id."}, **_errors(503)},
)
def issue_visitor_id() -> Response[dict[str, Any]]:
    body = AnonymousId(anonId=visitor_ids.issue())
    metrics.add_metric(name="VisitorIdsIssued", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(),
        # The id is a credential: nothing along the way keeps it.
        headers={"Cache-Control": "no-store"},
    )


@app.put(
    "/api/visitor/preferences",
    summary="Set an anonymous visitor's recommendations preference (opt-out / opt-in)",
    description="For the holder of the signed anonymous id in `X-Recs-Visitor`.",
    operation_id="putVisitorPreferences",
    tags=["privacy"],
    responses={
        200: {"description": "Stored; effective on the next request."},
        **_errors(400, 401, 415, 503),
    },
)
def put_visitor_preferences(
    body: Annotated[PreferencesBody, Body(description="The new preference.")],
) -> PreferencesSet:
    anon_id = _visitor()
    result = service.set_anonymous_preference(anon_id, body.preferences.recommendations)
    metrics.add_metric(
        name="OptOuts" if not body.preferences.recommendations else "OptIns", unit=MetricUnit.Count, value=1
    )
    return PreferencesSet.model_validate(result)


@app.get(
    "/api/visitor/privacy",
    summary="An anonymous visitor's privacy status: preference and latest erasure",
    description="For the holder of the signed anonymous id in `X-Recs-Visitor`.",
    operation_id="getVisitorPrivacyStatus",
    tags=["privacy"],
    responses={200: {"description": "The status."}, **_errors(401, 503)},
)
def get_visitor_status() -> PrivacyStatus:
    return PrivacyStatus.model_validate(service.anonymous_status(_visitor()))


@app.post(
    "/api/visitor/erasure",
    summary="Erase an anonymous visitor",
    description="For the holder of the signed anonymous id in `X-Recs-Visitor`: removes what is stored "
    "under that id from the live stores at once and returns a receipt; the event lake and the model "
    "artifacts are purged by the next training workflow run. Events the id shares with a signed-in "
    "user are theirs: they are kept, without the id (docs/privacy.md).",
    operation_id="requestVisitorErasure",
    tags=["privacy"],
    responses={
        202: _ERASURE_ACCEPTED,
        **_errors(401, 503),
    },
)
def request_visitor_erasure() -> Response[dict[str, Any]]:
    return _accepted("erasure", service.request_anonymous_erasure(_visitor()), "/api/visitor/erasures")


@app.get(
    "/api/visitor/erasures/<receiptId>",
    summary="An anonymous visitor's erasure receipt",
    description="For the holder of the erased anonymous id (`X-Recs-Visitor`); 404 for anyone else.",
    operation_id="getVisitorErasureReceipt",
    tags=["privacy"],
    responses={200: {"description": "The receipt."}, **_errors(400, 401, 404, 503)},
)
def get_visitor_receipt(
    receipt_id: ReceiptId,
) -> ErasureReceipt:
    anon_id = _visitor()
    receipt = service.receipt(receipt_id)
    if not service.is_anonymous_subject_of(receipt, anon_id):
        raise NotFoundError("no such erasure receipt")
    return ErasureReceipt.model_validate(receipt.public())


@app.post(
    "/api/visitor/export",
    summary="Export an anonymous visitor's data",
    description="For the holder of the signed anonymous id in `X-Recs-Visitor`: starts writing what is "
    "stored under that id (preference, session, its own anonymous events in the lake) to a JSON document "
    "and returns a receipt; poll it for a download URL. Events the id shares with a signed-in user are "
    "theirs and are not included. The export is deleted when `expiresAt` passes (docs/privacy.md).",
    operation_id="requestVisitorExport",
    tags=["privacy"],
    responses={
        202: _EXPORT_ACCEPTED,
        **_errors(401, 503),
    },
)
def request_visitor_export() -> Response[dict[str, Any]]:
    return _accepted("export", exports.request_anonymous(_visitor()), "/api/visitor/exports")


@app.get(
    "/api/visitor/exports/<receiptId>",
    summary="An anonymous visitor's export receipt, with a short-lived download URL once ready",
    description="For the holder of the anonymous id that requested it (`X-Recs-Visitor`); 404 for anyone "
    "else, and for a signed-in user's receipt.",
    operation_id="getVisitorExport",
    tags=["privacy"],
    responses={
        **_EXPORT_RECEIPT,
        **_errors(400, 401, 404, 503),
    },
)
def get_visitor_export(
    receipt_id: ReceiptId,
) -> Response[dict[str, Any]]:
    anon_id = _visitor()
    receipt = exports.receipt(receipt_id)
    if not exports.is_anonymous_owner(receipt, anon_id):
        raise NotFoundError("no such export receipt")
    return _download_response(exports.download(receipt))


@logger.inject_lambda_context
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
