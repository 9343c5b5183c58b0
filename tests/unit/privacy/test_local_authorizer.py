"""The local stack reads which routes template.yaml's HttpApi protects, as CloudFormation would
resolve them, and hands the functions API Gateway's claims (strings)."""

from __future__ import annotations

from typing import Any

import pytest

from recs_tools.checkout import repo_root
from recs_tools.local.auth import IamAuthorizerConfig, JwtAuthorizerConfig, gateway_claim, route_authorizers
from recs_tools.local.cfn import Resolver, load_template, parameter_defaults

TEMPLATE = load_template(repo_root() / "template.yaml")
PRIVACY_ROUTES = {
    ("PUT", "/api/users/{userId}/preferences"),
    ("GET", "/api/users/{userId}/privacy"),
    ("POST", "/api/users/{userId}/erasure"),
    ("GET", "/api/erasures/{receiptId}"),
    ("POST", "/api/users/{userId}/export"),
    ("GET", "/api/exports/{receiptId}"),
}


def _resolved_body(overrides: dict[str, str]) -> Any:
    resolver = Resolver(
        region="eu-west-1",
        account_id="123456789012",
        stack_name="recs-test",
        parameters=parameter_defaults(TEMPLATE, overrides),
    )
    resolver.evaluate_conditions(TEMPLATE["Conditions"])
    return resolver.resolve(TEMPLATE["Resources"]["HttpApi"]["Properties"]["DefinitionBody"])


ADMIN_ROUTES = {
    ("GET", "/api/admin/rules"),
    ("GET", "/api/admin/rules/{ruleId}"),
    ("PUT", "/api/admin/rules/{ruleId}"),
    ("DELETE", "/api/admin/rules/{ruleId}"),
    ("GET", "/api/admin/rule-changes"),
}


def test_by_default_only_the_admin_routes_are_protected_and_by_iam() -> None:
    # Given the template's defaults (AuthIssuerUrl empty) / Then only the admin routes have an
    # authorizer: IAM authorization, whether shoppers' tokens are checked or not
    iam = IamAuthorizerConfig("AdminIam")
    assert route_authorizers(_resolved_body({})) == dict.fromkeys(ADMIN_ROUTES, iam)


def test_with_an_issuer_the_privacy_routes_get_the_jwt_authorizer() -> None:
    # Given an issuer and an audience
    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    routes = route_authorizers(_resolved_body({"AuthIssuerUrl": issuer, "AuthAudience": "client-1"}))
    # Then exactly the privacy routes are protected by a JWT authorizer of that issuer and audience
    # (the admin routes keep IAM authorization)
    assert set(routes) == PRIVACY_ROUTES | ADMIN_ROUTES
    # (the anonymous visitor's routes check the signed id in X-Recs-Visitor themselves)
    assert not {path for _, path in routes if path.startswith(("/api/visitor/", "/api/visitors"))}
    assert {routes[route] for route in ADMIN_ROUTES} == {IamAuthorizerConfig("AdminIam")}
    assert {routes[route] for route in PRIVACY_ROUTES} == {
        JwtAuthorizerConfig("ShopperJwt", issuer, ("client-1",), "$request.header.Authorization")
    }


def test_an_authorizer_the_emulation_does_not_know_is_an_error() -> None:
    # Given a route protected by a Lambda authorizer / Then the local stack refuses to diverge silently
    body = {
        "paths": {"/x": {"get": {"security": [{"Custom": []}]}}},
        "components": {
            "securitySchemes": {"Custom": {"x-amazon-apigateway-authorizer": {"type": "request"}}}
        },
    }
    with pytest.raises(NotImplementedError, match="Custom"):
        route_authorizers(body)


@pytest.mark.parametrize(
    ("claim", "string"),
    [("user_1", "user_1"), (1795694400, "1795694400"), (["a", "b"], "[a b]"), (True, "true")],
)
def test_claims_reach_the_function_as_api_gateway_writes_them(claim: Any, string: str) -> None:
    # Given a claim of any JSON type / Then the function sees API Gateway's string form
    assert gateway_claim(claim) == string
