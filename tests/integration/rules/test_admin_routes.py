"""The admin routes: IAM authorization apart from shoppers, validation naming each bad field, and
an audit record (who, what, when) of every change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.credentials import Credentials

from recs_tools.local.auth import local_admin_credentials
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import REGION, LocalStack
from recs_tools.rules_client import RulesClient
from tests.integration.rules.support import ADMIN_IAM, admin, put_rule, window

PIN = {"kind": "pin", "productId": "sku_00005", "position": 2, **window()}


def client(api: LocalApiServer, credentials: Any = None) -> RulesClient:
    return RulesClient(api.url, REGION, credentials or local_admin_credentials())


def test_a_signed_operator_puts_lists_and_removes_a_rule(api: LocalApiServer) -> None:
    # Given the operator's IAM keys
    rules = client(api)
    # When they put a rule, list the rules, remove it and ask for it again
    put = rules.put("spring-pin", PIN)
    listed = rules.list()
    removed = rules.remove("spring-pin")
    again = rules.call("GET", "/api/admin/rules/spring-pin")
    # Then each answers as documented, and the rule names who wrote it
    assert put.status == 200, put.body
    assert put.body["updatedBy"] == "arn:aws:iam::123456789012:user/local-admin"
    assert [rule["id"] for rule in listed.body["rules"]] == ["spring-pin"]
    assert listed.body["revision"] == 1
    assert removed.status == 204
    assert again.status == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer a-shopper-token"},
        {
            "authorization": "AWS4-HMAC-SHA256 "
            "Credential=AKIAFORGED/20260302/eu-west-1/execute-api/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=00",
            "x-amz-date": "20260302T120000Z",
        },
    ],
    ids=["unsigned", "shopper-token", "forged-signature"],
)
def test_requests_without_a_valid_iam_signature_are_refused_before_the_function(
    api: LocalApiServer, headers: dict[str, str]
) -> None:
    # Given a request that is not signed by a known IAM principal
    # When it asks to change a rule
    result = http_call(api.url, "PUT", "/api/admin/rules/sneaky", PIN, headers=headers)
    # Then API Gateway refuses it, and nothing was stored
    assert result.status == 403
    assert result.body == {"message": "Forbidden"}
    assert client(api).list().body["rules"] == []


def test_a_signature_of_unknown_keys_is_refused(api: LocalApiServer) -> None:
    # Given keys IAM does not know
    stranger = client(api, Credentials("AKIASTRANGER00000000", "not-the-secret"))
    # When they list the rules / Then they are refused
    assert stranger.list().status == 403


def test_the_function_itself_refuses_a_request_without_an_iam_principal(stack: LocalStack) -> None:
    # Given a request that reached the function with a shopper's JWT claims instead of IAM
    claims = {"jwt": {"claims": {"sub": "user_000001"}, "scopes": None}}
    # When it lists or changes rules
    listed, _ = admin(stack, "GET", "/api/admin/rules", authorizer=claims)
    put, _ = admin(stack, "PUT", "/api/admin/rules/x", PIN, authorizer=claims)
    # Then the function answers 401 itself (defence in depth)
    assert (listed, put) == (401, 401)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endsAt": "2026-03-01T00:00:00+00:00"}, "endsAt"),
        ({"position": None}, "position"),
        ({"position": 0}, "position"),
        ({"kind": "block"}, "position"),
        ({"kind": "boost", "position": None, "factor": 0.5}, "factor"),
        ({"kind": "bury", "position": None, "factor": 2}, "factor"),
        ({"kind": "feature"}, "kind"),
        ({"productId": None, "category": "shoes"}, "productId"),
        ({"startsAt": "2026-03-02T12:00:00"}, "startsAt"),
        ({"contexts": ["checkout"]}, "contexts.0"),
        ({"contexts": ["cart", "cart"]}, "contexts"),
        ({"productId": "has space"}, "productId"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    stack: LocalStack, change: dict[str, Any], field: str
) -> None:
    # Given a pin rule with one bad value
    body = {key: value for key, value in {**PIN, **change}.items() if value is not None}
    # When it is put
    status, answer = admin(stack, "PUT", "/api/admin/rules/bad", body)
    # Then 400 names the field
    assert status == 400, answer
    assert field in [error["field"] for error in answer["errors"]], answer


def test_a_bad_rule_id_is_refused_naming_it(stack: LocalStack) -> None:
    status, answer = admin(stack, "PUT", "/api/admin/rules/has.dot", PIN)
    assert status == 400
    assert [error["field"] for error in answer["errors"]] == ["ruleId"]


def test_removing_an_unknown_rule_is_a_404(stack: LocalStack) -> None:
    assert admin(stack, "DELETE", "/api/admin/rules/nothing")[0] == 404


def test_every_change_is_audited_with_who_what_and_when(stack: LocalStack) -> None:
    # Given a rule put, replaced and removed
    first = put_rule(stack, "spring-pin", **{**PIN, "position": 2})
    second = put_rule(stack, "spring-pin", **{**PIN, "position": 3})
    assert admin(stack, "DELETE", "/api/admin/rules/spring-pin")[0] == 204
    # When the audit is read
    status, audit = admin(stack, "GET", "/api/admin/rule-changes", query="limit=10")
    # Then it holds the three changes, newest first, each with who, before, after and when
    assert status == 200
    changes = audit["changes"]
    assert [(c["action"], c["revision"]) for c in changes] == [("delete", 3), ("put", 2), ("put", 1)]
    assert {c["who"] for c in changes} == {ADMIN_IAM["iam"]["userArn"]}
    assert changes[2]["before"] is None
    assert changes[2]["after"] == first
    assert changes[1]["before"] == first
    assert changes[1]["after"] == second
    assert changes[0]["before"] == second
    assert changes[0]["after"] is None
    assert all(c["at"].startswith("2026-03-02T") for c in changes)


def test_a_rules_store_outage_answers_503_with_retry_after(stack: LocalStack) -> None:
    # Given the admin function's store failing as DynamoDB does when throttled past its retries
    from recs.adapters.dynamodb_rules import DynamoRuleStore
    from tests.unit.adapters.test_faults import THROTTLED, FailingClient

    module = stack.function("AdminFunction").module
    module.rules._store = DynamoRuleStore("state", FailingClient(THROTTLED))
    # When a rule is put / Then 503 says to retry, and nothing half-happened
    status, answer = admin(stack, "PUT", "/api/admin/rules/spring-pin", PIN)
    assert status == 503
    assert "retry" in answer["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"kind": "pin",', "application/json", 400, "body"),
        (b'{"kind": "\xff\xfe"}', "application/json", 400, "body"),
        (b"[" * 50_000 + b"]" * 50_000, "application/json", 400, "body"),
        (b'{"kind": "block"}', "text/plain", 415, "content-type"),
        (b'{"note": "' + b"x" * 600 + b'"}', "application/json", 400, "note"),
    ],
    ids=["not-json", "not-utf8", "deeply-nested", "text-plain", "note-too-long"],
)
def test_hostile_signed_bodies_get_a_4xx_naming_the_problem(
    api: LocalApiServer, body: bytes, content_type: str, status: int, field: str
) -> None:
    # Given a correctly signed request with a hostile body
    import urllib.error
    import urllib.request

    from recs_tools.rules_client import sign_request

    url = api.url + "/api/admin/rules/hostile"
    headers = sign_request(
        "PUT",
        url,
        body=body,
        headers={"content-type": content_type},
        region=REGION,
        credentials=local_admin_credentials(),
    )
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
    # When it is sent / Then the function answers the 4xx naming the field, never a 5xx
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.urlopen(request, timeout=30)
    answer = json.loads(answered.value.read())
    assert answered.value.code == status
    assert field in [error["field"] for error in answer.get("errors", [])], answer
