"""Caller authorization when the identity provider cannot be reached: the shop keeps working,
and nothing personal is served to a caller whose token cannot be checked."""

from __future__ import annotations

from recs_tools.local.auth import LocalIssuer
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import RICH_USER, World


def test_when_the_issuer_is_down_personal_requests_are_served_as_anonymous() -> None:
    # Given a stack trusting an issuer that is down before any key was fetched
    issuer = LocalIssuer().start()
    headers = issuer.headers(RICH_USER)
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", **issuer.stack_parameters()}) as stack:
        World(stack).publish_everything()
        api = LocalApiServer(stack, port=0).start()
        issuer.stop()
        try:
            # When the rich user asks with a token nobody can check now
            result = http_call(api.url, "GET", f"/api/recommendations?userId={RICH_USER}", headers=headers)
            preference = http_call(
                api.url,
                "PUT",
                f"/api/users/{RICH_USER}/preferences",
                {"preferences": {"recommendations": False}},
            )
        finally:
            api.stop()
    # Then the page still gets recommendations, but nothing personal; privacy calls are refused
    assert result.status == 200
    assert result.body["source"] not in ("user", "session")
    assert preference.status == 401
