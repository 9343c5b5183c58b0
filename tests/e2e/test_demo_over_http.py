"""The demo flow over real HTTP: synthetic shop -> POST /api/events -> training -> GET recommendations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recs_tools.local.demo import DemoReport, run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LocalApiServer, DemoReport]]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        server = LocalApiServer(stack, port=0).start()
        report = run_demo(stack, server.url, preset="test", seed=11, log=lambda _: None)
        yield server, report
        server.stop()


def test_the_demo_trains_a_model_from_events_sent_over_http(demo: tuple[LocalApiServer, DemoReport]) -> None:
    # Given the demo ran
    _, report = demo
    # Then every event sent was accepted and the training execution succeeded
    assert report.events_accepted == report.events_posted > 0
    assert report.execution["status"] == "SUCCEEDED"


def test_a_demo_user_gets_recommendations_in_the_contract_shape(
    demo: tuple[LocalApiServer, DemoReport],
) -> None:
    # Given a demo user who did not opt out
    server, report = demo
    user = next(u for u in report.shop.users if u not in set(report.shop.opted_out_user_ids))
    # When the frontend asks for their homepage list
    result = http_call(server.url, "GET", f"/api/recommendations?userId={user}&limit=5")
    # Then it answers 200 with products, modelVersion and generatedAt
    assert result.status == 200
    body = result.body
    assert len(body["products"]) == 5
    assert {"id", "score", "reason"} <= set(body["products"][0])
    assert body["modelVersion"].startswith("v")
    assert body["generatedAt"].endswith("Z")
    assert len({p["id"] for p in body["products"]}) == 5


def test_a_bad_limit_answers_400_naming_the_field_over_http(demo: tuple[LocalApiServer, DemoReport]) -> None:
    # When the frontend sends limit=abc
    server, _ = demo
    result = http_call(server.url, "GET", "/api/recommendations?userId=user_000001&limit=abc")
    # Then it gets a 400 naming `limit`
    assert result.status == 400
    assert result.body["errors"][0]["field"] == "limit"


def test_unknown_routes_and_methods_answer_like_api_gateway(demo: tuple[LocalApiServer, DemoReport]) -> None:
    server, _ = demo
    # When an unknown path and a wrong method are requested / Then 404 and 405
    assert http_call(server.url, "GET", "/api/nothing").status == 404
    assert http_call(server.url, "DELETE", "/api/recommendations").status == 405
