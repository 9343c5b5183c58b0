"""Admin routes: the merchandising rules (docs/serving.md, Rules; docs/operations.md, Rules).

API Gateway authorizes these routes with IAM (SigV4-signed requests of a principal whose policy
allows ``execute-api:Invoke`` on them), apart from shoppers' tokens; this function refuses any
request that reaches it without an IAM principal, and records that principal in the audit
record of every change.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from recs.api.errors import error_responses, register_error_handlers
from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.auth.caller import iam_principal
from recs.auth.errors import UnauthorizedError
from recs.config.admin import AdminSettings
from recs.errors import NotFoundError
from recs.rules.model import RULE_ID_PATTERN, Rule, RuleBody, RuleChanges, RuleList
from recs.wiring import admin as wiring

logger = Logger()
metrics = Metrics()
settings = AdminSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
rules = wiring.rule_admin(settings)
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app, logger)

RuleIdPath = Annotated[str, Path(alias="ruleId", pattern=RULE_ID_PATTERN, description="The rule's id.")]

#: Said of every admin route in the spec: who may call it.
IAM_ONLY = (
    "IAM-authorized: a SigV4-signed request of a principal allowed execute-api:Invoke on the admin "
    "routes (API Gateway answers 403 otherwise); shoppers' tokens are never enough (docs/operations.md)."
)

#: What each error status means on these routes (the body is always `ErrorBody`).
ERROR_MEANINGS = {
    400: "Invalid parameters or body; `errors` names each bad field.",
    401: "Not signed with IAM credentials (SigV4).",
    403: "The IAM principal may not call this route.",
    404: "No such rule.",
    415: "The body is not application/json.",
    503: "The rules store is unavailable; retry (every route is idempotent).",
}


def _errors(*statuses: int) -> dict[int, Any]:
    return error_responses({status: ERROR_MEANINGS[status] for status in statuses})


def _principal() -> str:
    """Who is calling, as API Gateway's IAM authorization verified it."""
    principal = iam_principal(app.current_event.raw_event.get("requestContext"))
    if principal is None:
        raise UnauthorizedError("admin routes need a SigV4-signed request (IAM authorization)")
    return principal


@app.get(
    "/api/admin/rules",
    summary="Every merchandising rule (active, future and expired)",
    description=IAM_ONLY,
    operation_id="listRules",
    tags=["admin"],
    responses={200: {"description": "The rules, by id."}, **_errors(401, 403, 503)},
)
def list_rules() -> RuleList:
    _principal()
    return rules.all()


@app.get(
    "/api/admin/rules/<ruleId>",
    summary="One merchandising rule",
    description=IAM_ONLY,
    operation_id="getRule",
    tags=["admin"],
    responses={200: {"description": "The rule."}, **_errors(400, 401, 403, 404, 503)},
)
def get_rule(rule_id: RuleIdPath) -> Rule:
    _principal()
    found = next((rule for rule in rules.all().rules if rule.id == rule_id), None)
    if found is None:
        raise NotFoundError(f"no rule {rule_id}")
    return found


@app.put(
    "/api/admin/rules/<ruleId>",
    summary="Create or replace a merchandising rule",
    description="Pin a product at a position, boost or bury products of a product id, category or "
    "brand, or block a product, in some contexts between two times. Serving applies it within "
    "its rules cache TTL (RULES_CACHE_TTL_SECONDS, default 30 s); the change is audited. " + IAM_ONLY,
    operation_id="putRule",
    tags=["admin"],
    responses={200: {"description": "Stored."}, **_errors(400, 401, 403, 415, 503)},
)
def put_rule(rule_id: RuleIdPath, body: Annotated[RuleBody, Body(description="The rule.")]) -> Rule:
    who = _principal()
    rule = rules.put(rule_id, body, who)
    logger.info("rule put", extra={"ruleId": rule_id, "kind": rule.kind, "who": who})
    metrics.add_metric(name="RuleChanges", unit=MetricUnit.Count, value=1)
    return rule


@app.delete(
    "/api/admin/rules/<ruleId>",
    summary="Remove a merchandising rule",
    description="The removal is audited. " + IAM_ONLY,
    operation_id="deleteRule",
    tags=["admin"],
    responses={204: {"description": "Removed."}, **_errors(400, 401, 403, 404, 503)},
)
def delete_rule(rule_id: RuleIdPath) -> Response[str]:
    who = _principal()
    rules.remove(rule_id, who)
    logger.info("rule removed", extra={"ruleId": rule_id, "who": who})
    metrics.add_metric(name="RuleChanges", unit=MetricUnit.Count, value=1)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@app.get(
    "/api/admin/rule-changes",
    summary="The audit of rule changes: who changed what when, newest first",
    description=IAM_ONLY,
    operation_id="listRuleChanges",
    tags=["admin"],
    responses={200: {"description": "The changes."}, **_errors(400, 401, 403, 503)},
)
def list_rule_changes(
    limit: Annotated[int, Query(description="How many changes (1-200)."), Field(ge=1, le=200)] = 50,
) -> RuleChanges:
    _principal()
    return RuleChanges(changes=rules.changes(limit))


@logger.inject_lambda_context
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
