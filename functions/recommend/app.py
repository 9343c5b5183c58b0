"""GET /api/recommendations: typed query parameters -> RecommendService -> JSON.

Powertools validates the parameters as one model, `recs.serving.query.RecommendationParameters`
(and documents each in the OpenAPI spec, docs/openapi.json); a bad one answers 400 naming the
field (`recs.api.errors`). Every request leaves one JSON line that is both its structured log
line (pseudonyms only) and its EMF metrics (`recs.api.request_record`) and, in AWS, an X-Ray
trace.
"""

import logging
import os
import time
from typing import Annotated, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.shared.constants import METRICS_NAMESPACE_ENV
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.errors import error_responses, register_error_handlers
from recs.api.request_record import MetricGroup, RequestRecorder
from recs.api.tracing import make_tracer
from recs.config.recommend import RecommendSettings
from recs.contracts.recommendations import RecommendationResponse
from recs.errors import InvalidRequestError
from recs.serving.observability import (
    MetricPoint,
    served_dimensions,
    served_fields,
    served_metrics,
    service_total_metrics,
)
from recs.serving.query import RecommendationParameters
from recs.serving.service import Outcome
from recs.wiring import recommend as wiring
from recs.wiring.auth import subject_policy

settings = RecommendSettings()  # values come from the environment
logger = Logger()
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
# Each request writes one line that is both its log line and its metrics: `served`, or `not
# served` for a 4xx or 5xx (`recs.api.request_record` says why not Powertools' Metrics).
recorder = RequestRecorder(
    service=logger.service,
    namespace=os.environ.get(METRICS_NAMESPACE_ENV),
    metrics_enabled=lambda: not is_metrics_disabled(),
    logs_info=lambda: logger.log_level <= logging.INFO,
)
service = wiring.recommend_service(settings)
# A userId request must carry a bearer token of that user when an issuer is set (docs/privacy.md).
access = subject_policy(settings, verify_tokens=True)
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app, logger)

#: What each error status means on this route (the body is always `ErrorBody`).
ERROR_MEANINGS = {
    400: "Invalid parameters; `errors` names each bad field.",
    404: "No product of the `category` asked for is on sale; `errors` names it.",
    503: "No source can answer (e.g. before the first model); see Retry-After.",
}


@app.get(
    "/api/recommendations",
    summary="Recommended products for a shopper and a page",
    description="Top-N products with scores and reasons; falls back tier by tier (docs/serving.md) "
    "and answers 503 only when no source can answer. With caller authorization enabled, userId "
    "needs a bearer token of that user: 401 without a valid one, 403 for another user's "
    "(docs/privacy.md).",
    operation_id="getRecommendations",
    tags=["recommendations"],
    responses={
        200: {
            "description": "The recommendations.",
            "content": {content_types.APPLICATION_JSON: {"model": RecommendationResponse}},
        },
        **error_responses(ERROR_MEANINGS),
    },
)
@tracer.capture_method(capture_response=False)
def get_recommendations(parameters: Annotated[RecommendationParameters, Query()]) -> Response[str]:
    started = time.perf_counter()
    _refuse_repeated(app.current_event.raw_query_string)
    admission = access.admit(parameters.user_id, app.current_event.headers)
    query = parameters.query(user_id=admission.user_id)
    outcome = service.recommend(query)
    _observe(outcome, (time.perf_counter() - started) * 1000, caller_unverified=admission.unverified)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=outcome.response.model_dump_json(exclude_none=True),
    )


#: The route's parameters by their wire names.
_PARAMETER_NAMES = frozenset(f.alias or n for n, f in RecommendationParameters.model_fields.items())


def _refuse_repeated(raw_query: str) -> None:
    """400 naming each parameter sent more than once (``?limit=1&limit=2``).

    Powertools hands a model's field one of a repeated parameter's values, where it refuses a
    repeated typed argument; which value would win is a guess, so the request is refused.
    """
    if "&" not in raw_query:
        return
    names = [name for name, _ in parse_qsl(raw_query, keep_blank_values=True)]
    repeated = {n for n in names if n in _PARAMETER_NAMES and names.count(n) > 1}
    if repeated:
        reason = "has several values (repeated, or separated by commas); send one value"
        raise InvalidRequestError("invalid request", dict.fromkeys(sorted(repeated), reason))


def _observe(outcome: Outcome, latency_ms: float, *, caller_unverified: bool = False) -> None:
    fields = served_fields(outcome, latency_ms)
    if caller_unverified:
        # The issuer's keys could not be had: served as an anonymous request (docs/privacy.md).
        fields["callerUnverified"] = True
    served = served_metrics(outcome, fields)
    groups = (
        MetricGroup(served_dimensions(fields), served),
        # The SLO's 50 ms budget is for cache hits: latency by cache outcome has a dimension
        # set of its own (service, cache) beside (context, source, variant).
        MetricGroup({"cache": str(fields["cache"])}, [p for p in served if p.name == "Latency"]),
        # Whole-service counts (dimension: service only), what the alarms divide: requests,
        # signed-in shoppers served nothing personal, unverified callers, store errors.
        MetricGroup({}, service_total_metrics(outcome, caller_unverified=caller_unverified)),
    )
    recorder.write("served", fields, groups, app.lambda_context)
    for key in ("context", "source", "variant", "cache"):
        tracer.put_annotation(key=key, value=str(fields[key]))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = app.resolve(event, context)
    status = int(result.get("statusCode", 500))
    if status >= 400:
        errors = MetricPoint("ClientErrors" if status < 500 else "ServerErrors", "Count", 1)
        fields = {"status": status, "latencyMs": round((time.perf_counter() - started) * 1000, 3)}
        recorder.write("not served", fields, (MetricGroup({}, [errors]),), context)
    return result
