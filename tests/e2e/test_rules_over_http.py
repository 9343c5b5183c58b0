"""Merchandising rules over real HTTP on the demo: the demo's pin on the homepage, a block added
and removed by the operator's signed requests, and shoppers' requests refused on admin routes;
and a boost of a category after the shop's export made its categories paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from recs.store_layout import CATALOG_OBJECT_KEY
from recs_tools.local.auth import local_admin_credentials
from recs_tools.local.demo import DEMO_PIN_POSITION, DEMO_RULE_ID, DemoReport, run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import REGION, LocalStack
from recs_tools.rules_client import RulesClient


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[LocalStack]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        # Every request reads the rules and the catalog version: a rule or a new catalog export
        # shows on the next request, not 30 or 15 s later.
        environment = stack.function("RecommendFunction").environment
        environment["RULES_CACHE_TTL_SECONDS"] = "0"
        environment["POINTER_TTL_SECONDS"] = "0"
        yield stack


@pytest.fixture(scope="module")
def demo(demo_stack: LocalStack) -> Iterator[tuple[LocalApiServer, DemoReport]]:
    server = LocalApiServer(demo_stack, port=0).start()
    report = run_demo(demo_stack, server.url, preset="test", seed=11, log=lambda _: None)
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


def _upload_catalog(stack: LocalStack, products: list[dict[str, object]]) -> None:
    """The shop's export, as the catalog feed takes it (its category map serves on the next request)."""
    (result,) = stack.upload(
        "ArtifactBucket", CATALOG_OBJECT_KEY, "\n".join(map(json.dumps, products)).encode()
    )
    assert result["refreshed"], result


def test_a_boost_of_a_category_lifts_the_products_below_it_over_http(
    demo: tuple[LocalApiServer, DemoReport], demo_stack: LocalStack
) -> None:
    # Given the shop's export with its categories made paths, each product one level below its
    # category (beauty/a, beauty/b), except one other category's products, moved below a sibling
    # whose name starts with the same characters (beautyware/...); and a shopper's homepage then
    server, report = demo
    user = shopper(report)
    original = [product.to_dict() for product in report.shop.products]
    category = {str(p["id"]): str(p["category"]) for p in original}
    ranked = [p["id"] for p in homepage(server, user) if p["id"] != report.pinned]
    last = str(ranked[-1])
    target = category[last]
    other = str(next(p for p in ranked if category[str(p)] != target))
    sibling = f"{target}ware/{category[other]}"
    paths = [
        sibling if category[str(p["id"])] == category[other] else f"{p['category']}/{'ab'[n % 2]}"
        for n, p in enumerate(original)
    ]
    _upload_catalog(demo_stack, [{**p, "category": path} for p, path in zip(original, paths, strict=True)])
    try:
        before = [p["id"] for p in homepage(server, user)]
        rules = RulesClient(server.url, REGION, local_admin_credentials())
        active = _window(datetime.now(UTC), -timedelta(minutes=1), timedelta(days=1))
        # When the operator boosts the last product's category (no product is in it: all are below)
        put = rules.put("lift-category", {"kind": "boost", "category": target, "factor": 100.0, **active})
        after = homepage(server, user)
        rules.remove("lift-category")
    finally:
        _upload_catalog(demo_stack, original)
    # Then the last product rises, named by the rule, and so is every product it names below it
    assert put.status == 200
    order = [p["id"] for p in after]
    assert order.index(last) < before.index(last)
    named = {str(p["id"]) for p in after if p.get("ruleId") == "lift-category"}
    assert last in named
    assert {category[p] for p in named} == {target}
    # And the sibling category sharing its first characters (not its segments) is not boosted
    assert other in order
    assert other not in named
