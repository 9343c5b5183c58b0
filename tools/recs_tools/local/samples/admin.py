"""Sample requests of the admin function (merchandising rules), as API Gateway hands them on after
IAM authorization let them through (`requestContext.authorizer.iam`)."""

from __future__ import annotations

from typing import Any

from recs_tools.local.samples.common import api_event

RULE_ROUTE = "/api/admin/rules/{ruleId}"
#: What IAM authorization adds to a request it let through (an assumed role's session).
OPERATOR_IAM = {
    "iam": {
        "accessKey": "ASIAEXAMPLEACCESSKEY",
        "accountId": "123456789012",
        "callerId": "AROAEXAMPLEROLEID:jane",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": "arn:aws:sts::123456789012:assumed-role/merchandising/jane",
        "userId": "AROAEXAMPLEROLEID:jane",
    }
}


def _signed(event: dict[str, Any]) -> dict[str, Any]:
    event["headers"]["authorization"] = "AWS4-HMAC-SHA256 <signature verified by API Gateway>"
    event["requestContext"]["authorizer"] = OPERATOR_IAM
    return event


def samples() -> dict[str, dict[str, Any]]:
    pin = {
        "kind": "pin",
        "productId": "sku_00042",
        "position": 1,
        "contexts": ["homepage"],
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2036-01-01T00:00:00Z",
        "note": "spring campaign",
    }
    rule = {"ruleId": "spring-pin"}
    return {
        "admin_put_rule": _signed(
            api_event("PUT", "/api/admin/rules/spring-pin", RULE_ROUTE, body=pin, path_parameters=rule)
        ),
        "admin_put_rule_bad_window": _signed(
            api_event(
                "PUT",
                "/api/admin/rules/spring-pin",
                RULE_ROUTE,
                body={**pin, "endsAt": "2025-01-01T00:00:00Z"},
                path_parameters=rule,
            )
        ),
        "admin_list_rules": _signed(api_event("GET", "/api/admin/rules", "/api/admin/rules")),
        "admin_rule_changes": _signed(
            api_event("GET", "/api/admin/rule-changes", "/api/admin/rule-changes", query={"limit": "10"})
        ),
        "admin_delete_rule": _signed(
            api_event("DELETE", "/api/admin/rules/spring-pin", RULE_ROUTE, path_parameters=rule)
        ),
    }
