"""Merchandising rules over real HTTP on the demo: the demo's pin on the homepage, a block added
and removed by the operator's signed requests, and shoppers' requests refused on admin routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from recs_tools.local.auth import local_admin_credentials
from recs_tools.local.demo import DEMO_PIN_POSITION, DEMO_RULE_ID, DemoReport, run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import REGION, LocalStack
from recs_tools.rules_client import RulesClient


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[LocalApiServer, DemoReport]]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        # Every request reads the rules: a change shows on the next request, not 30 s later.
        stack.function("RecommendFunction").environment["RULES_CACHE_TTL_SECONDS"] = "0"
        server = LocalApiServer(stack, port=0).start()
        report = run_demo(stack, server.url, preset="test", seed=11, log=lambda _: None)
        yield server, report
        server.stop()


def shopper(report: DemoReport) -> str:
    return next(u for u in report.shop.users if u not in set(report.shop.opted_out_user_ids))


def homepage(server: LocalApiServer, user: str) -> list[dict[str, object]]:
    result = http_call(server.url, "GET", f"/api/recommendations?userId={user}&limit=8")
    assert result.status == 200, result.body
    return list(result.body["products"])


def test_the_demo_pins_a_product_on_the_homepage_naming_the_rule(
    demo: tuple[LocalApiServer, DemoReport],
) -> None:
    # Given the demo (it pins a product through the signed admin route)
    server, report = demo
    assert report.pinned is not None
    # When a shopper's homepage and a product page are asked for
    products = homepage(server, shopper(report))
    product_page = http_call(
        server.url,
        "GET",
        f"/api/recommendations?userId={shopper(report)}&context=product-page&productId={report.pinned}",
    )
    # Then the homepage shows the pinned product at its position, its reason naming the rule
    assert products[DEMO_PIN_POSITION - 1] == {
        "id": report.pinned,
        "score": products[DEMO_PIN_POSITION - 2]["score"],
        "reason": "rule",
        "ruleId": DEMO_RULE_ID,
    }
    # And the product page (the rule is for the homepage only) does not
    assert all(p.get("ruleId") is None for p in product_page.body["products"])


def test_a_block_added_and_removed_by_the_operator(demo: tuple[LocalApiServer, DemoReport]) -> None:
    # Given a shopper's homepage list and the operator's signed client
    server, report = demo
    user = shopper(report)
    before = [p["id"] for p in homepage(server, user)]
    victim = next(p for p in before if p != report.pinned)
    rules = RulesClient(server.url, REGION, local_admin_credentials())
    now = datetime.now(UTC)
    # When the operator blocks its first model product
    put = rules.put(
        "recall",
        {
            "kind": "block",
            "productId": victim,
            "startsAt": (now - timedelta(minutes=1)).isoformat(),
            "endsAt": (now + timedelta(days=1)).isoformat(),
        },
    )
    blocked = [p["id"] for p in homepage(server, user)]
    removed = rules.remove("recall")
    after = [p["id"] for p in homepage(server, user)]
    # Then the next list leaves it out and stays full, and removing the rule brings it back
    assert put.status == 200
    assert victim not in blocked
    assert len(blocked) == len(before)
    assert removed.status == 204
    assert after == before


def test_a_shopper_cannot_change_rules(demo: tuple[LocalApiServer, DemoReport]) -> None:
    # Given a request with no IAM signature (a shopper's browser)
    server, _ = demo
    # When it tries to remove the demo's rule / Then the gateway refuses it and the rule stays
    assert http_call(server.url, "DELETE", f"/api/admin/rules/{DEMO_RULE_ID}").status == 403
    listed = RulesClient(server.url, REGION, local_admin_credentials()).list()
    assert [rule["id"] for rule in listed.body["rules"]] == [DEMO_RULE_ID]


def _window(now: datetime, starts: timedelta, ends: timedelta) -> dict[str, str]:
    return {"startsAt": (now + starts).isoformat(), "endsAt": (now + ends).isoformat()}


def test_a_boost_lifts_a_product_and_a_bury_sinks_one_over_http(
    demo: tuple[LocalApiServer, DemoReport],
) -> None:
    # Given a shopper's homepage list (the demo's pin aside) and the operator's signed client
    server, report = demo
    user = shopper(report)
    before = [p["id"] for p in homepage(server, user)]
    ranked = [p for p in before if p != report.pinned]
    first, last = ranked[0], ranked[-1]
    rules = RulesClient(server.url, REGION, local_admin_credentials())
    now = datetime.now(UTC)
    active = _window(now, -timedelta(minutes=1), timedelta(days=1))
    # When the operator boosts the list's last product and buries its first
    boost = rules.put("lift", {"kind": "boost", "productId": last, "factor": 100.0, **active})
    bury = rules.put("sink", {"kind": "bury", "productId": first, "factor": 0.01, **active})
    after = homepage(server, user)
    rules.remove("lift")
    rules.remove("sink")
    # Then the boosted product moves up and the buried one down (or out), each naming its rule
    assert (boost.status, bury.status) == (200, 200)
    order = [p["id"] for p in after]
    assert order.index(last) < before.index(last)
    assert first not in order or order.index(first) > before.index(first)
    assert {p["ruleId"] for p in after if p["id"] == last} == {"lift"}
    # And without the rules the list is as before
    assert [p["id"] for p in homepage(server, user)] == before


def test_a_rule_outside_its_window_does_nothing_over_http(demo: tuple[LocalApiServer, DemoReport]) -> None:
    # Given a shopper's homepage list and blocks of its first model product, one that has ended
    # and one that has not started yet
    server, report = demo
    user = shopper(report)
    before = [p["id"] for p in homepage(server, user)]
    victim = next(p for p in before if p != report.pinned)
    rules = RulesClient(server.url, REGION, local_admin_credentials())
    now = datetime.now(UTC)
    ended = rules.put(
        "ended",
        {"kind": "block", "productId": victim, **_window(now, -timedelta(days=2), -timedelta(days=1))},
    )
    later = rules.put(
        "later", {"kind": "block", "productId": victim, **_window(now, timedelta(days=1), timedelta(days=2))}
    )
    # When the list is asked for again
    during = [p["id"] for p in homepage(server, user)]
    rules.remove("ended")
    rules.remove("later")
    # Then neither rule acts: the product is still there
    assert (ended.status, later.status) == (200, 200)
    assert during == before
