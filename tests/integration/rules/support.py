"""Rules through the admin function, as API Gateway hands it a request IAM authorization let
through (`requestContext.authorizer.iam`); and rule bodies relative to the tests' clock."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from recs_tools.local.auth import LOCAL_ADMIN
from recs_tools.local.gateway_events import build_http_api_event
from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.helpers import body_of

ADMIN_IAM = {
    "iam": {
        "accessKey": LOCAL_ADMIN.access_key,
        "accountId": "123456789012",
        "callerId": LOCAL_ADMIN.user_id,
        "userArn": LOCAL_ADMIN.arn,
        "userId": LOCAL_ADMIN.user_id,
    }
}


def window(*, starts: timedelta = timedelta(hours=-1), ends: timedelta = timedelta(days=1)) -> dict[str, str]:
    """startsAt/endsAt relative to the tests' clock (active now by default)."""
    return {"startsAt": (PINNED_NOW + starts).isoformat(), "endsAt": (PINNED_NOW + ends).isoformat()}


def admin(
    stack: LocalStack,
    method: str,
    path: str,
    body: Any = None,
    *,
    authorizer: dict[str, Any] | None = ADMIN_IAM,
    query: str = "",
) -> tuple[int, Any]:
    """Invoke the admin function with the request API Gateway would pass on."""
    route_path, parameters = path, {}
    prefix = "/api/admin/rules/"
    if path.startswith(prefix):
        route_path, parameters = prefix + "{ruleId}", {"ruleId": path.removeprefix(prefix)}
    event = build_http_api_event(
        method=method,
        raw_path=path,
        raw_query=query,
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode() if body is not None else b"",
        route_path=route_path,
        path_parameters=parameters,
        authorizer=authorizer,
    )
    response = stack.invoke("AdminFunction", event)
    return response["statusCode"], body_of(response)


def put_rule(stack: LocalStack, rule_id: str, **body: Any) -> dict[str, Any]:
    status, stored = admin(stack, "PUT", f"/api/admin/rules/{rule_id}", {**window(), **body})
    assert status == 200, stored
    return dict(stored)
