"""Merchandising rules through the recommend handler: each kind, its contexts and its window,
a block that empties a source (the next one fills the list), and a rules store that cannot be
read (served without rules, counted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from recs.store_layout import RULES_KEY
from tests.clock import PINNED_NOW
from tests.integration.rules.support import put_rule, window
from tests.integration.serving.world import (
    ANONYMOUS,
    RICH_LIST,
    SPARSE_USER,
    World,
    category_of,
    emf_metrics,
    ids,
    path_of,
    reasons,
    sku,
)

RICH = [p for p, _, _ in RICH_LIST]


def by_id(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {p["id"]: p for p in body["products"]}  # type: ignore[attr-defined]


def test_a_pinned_product_is_served_at_its_position_with_the_rule_as_its_reason(world: World) -> None:
    # Given a rule pinning sku_00005 (no model lists it for this user) at position 2 of the homepage
    put_rule(world.stack, "spring-pin", kind="pin", productId=sku(5), position=2, contexts=["homepage"])
    # When the homepage asks for 10
    status, body, _ = world.ask("recommend_homepage")
    # Then it is second, its reason names the rule, the list keeps its length and order otherwise
    assert status == 200
    assert ids(body) == [RICH[0], sku(5), *RICH[1:9]]
    assert by_id(body)[sku(5)]["reason"] == "rule"
    assert by_id(body)[sku(5)]["ruleId"] == "spring-pin"
    scores = [p["score"] for p in body["products"]]
    assert scores == sorted(scores, reverse=True)


def test_a_pin_acts_only_in_its_contexts(world: World) -> None:
    # Given a pin for product pages only
    put_rule(world.stack, "pdp-pin", kind="pin", productId=sku(5), position=1, contexts=["product-page"])
    # When the homepage and a product page ask
    _, homepage, _ = world.ask("recommend_homepage")
    _, product_page, _ = world.ask("recommend_product_page", productId=sku(40))
    # Then only the product page shows it, first
    assert sku(5) not in ids(homepage)
    assert ids(product_page)[0] == sku(5)


def test_a_pin_never_overrides_the_request_s_filters(world: World) -> None:
    # Given a pin of sku_00005 on every page
    put_rule(world.stack, "pin-everywhere", kind="pin", productId=sku(5), position=1)
    # When a widget excludes it, and when another asks only for cat_b
    _, excluded, _ = world.ask("recommend_homepage", exclude=sku(5))
    _, filtered, _ = world.ask("recommend_homepage", category="cat_b")
    # Then neither serves it (sku_00005 is in cat_a)
    assert sku(5) not in ids(excluded)
    assert sku(5) not in ids(filtered)
    assert len(ids(excluded)) == len(ids(filtered)) == 10


def test_a_blocked_product_is_never_served_and_the_list_stays_full(world: World) -> None:
    # Given a block of the user's best product
    put_rule(world.stack, "recall", kind="block", productId=RICH[0])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is not served, and the next candidates fill the list
    assert RICH[0] not in ids(body)
    assert ids(body)[:9] == RICH[1:]
    assert len(ids(body)) == 10


def test_blocks_that_empty_a_source_leave_the_list_to_the_next_source(world: World) -> None:
    # Given blocks of both products of the sparse user's own list
    put_rule(world.stack, "block-41", kind="block", productId=sku(41))
    put_rule(world.stack, "block-42", kind="block", productId=sku(42))
    # When the sparse user's homepage asks
    status, body, _ = world.ask("recommend_homepage", userId=SPARSE_USER)
    # Then neither is served, their own list answers nothing, and the next sources fill the list
    assert status == 200
    assert not {sku(41), sku(42)} & set(ids(body))
    assert body["source"] != "user"
    assert len(ids(body)) == 10


def test_a_buried_product_leaves_the_list_to_the_next_candidate(world: World) -> None:
    # Given a strong bury of the user's best product
    put_rule(world.stack, "sink-45", kind="bury", productId=RICH[0], factor=0.01)
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is not among the 10, the next candidate (category-popular) took its place
    assert RICH[0] not in ids(body)
    assert ids(body) == [*RICH[1:], sku(30)]


def test_a_mild_bury_moves_a_product_down_with_the_rule_as_its_reason(world: World) -> None:
    # Given a bury of the user's best product (1.0) by 0.9: level with the third (0.9)
    put_rule(world.stack, "nudge-45", kind="bury", productId=RICH[0], factor=0.9)
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is second, before the third (ties keep their order), named by the rule
    assert ids(body) == [RICH[1], RICH[0], *RICH[2:]]
    assert by_id(body)[RICH[0]] == {"id": RICH[0], "score": 0.9, "reason": "rule", "ruleId": "nudge-45"}


def test_a_boost_lifts_a_product_from_below_the_list(world: World) -> None:
    # Given a boost of sku_00031, which the user's list does not hold (category-popular offers it
    # after the list's 10)
    put_rule(world.stack, "lift-31", kind="boost", productId=sku(31), factor=100)
    # When the homepage asks for 10
    _, body, _ = world.ask("recommend_homepage")
    # Then it is in the list, second (capped at 1, after the first's 1), and the last one made room
    assert ids(body) == [RICH[0], sku(31), *RICH[1:9]]
    assert by_id(body)[sku(31)]["ruleId"] == "lift-31"


def test_a_boosted_product_rises_in_the_list(world: World) -> None:
    # Given a boost of the user's last product (score 0.55 of the best's 1.0), times 1.6
    put_rule(world.stack, "push-54", kind="boost", productId=RICH[9], factor=1.6)
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is fourth (0.88, between 0.9 and 0.85), named by the rule
    assert ids(body) == [*RICH[:3], RICH[9], *RICH[3:9]]
    assert by_id(body)[RICH[9]] == {"id": RICH[9], "score": 0.88, "reason": "rule", "ruleId": "push-54"}


def test_a_category_is_buried_below_every_other_category(world: World) -> None:
    # Given a bury of cat_b, the category of a cat_b product page's similar items
    put_rule(world.stack, "bury-b", kind="bury", category="cat_b", factor=0.01)
    # When that product page asks for 12 (8 similar items of cat_b, then bought-together of cat_a)
    _, body, _ = world.ask("recommend_product_page", productId=sku(40), limit="12")
    # Then the products of cat_a come first, the buried ones after, named by the rule
    categories = [category_of(int(p.removeprefix("sku_"))) for p in ids(body)]
    assert len(categories) == 12
    assert categories == sorted(categories)  # every cat_a before every cat_b
    assert "cat_a" in categories
    assert "cat_b" in categories
    assert {p.get("ruleId") for p in body["products"] if p["id"] in {sku(n) for n in range(30, 60)}} == {
        "bury-b"
    }


def test_a_category_rule_acts_on_every_category_below_its_path_and_not_on_a_prefix_sibling(
    world: World,
) -> None:
    # Given categories that are paths (sku_00000..39 below home/kitchen, 40-49 home/kitchenware,
    # 50-59 garden; popular: sku_00000 first) and a bury of home/kitchen, and a boost of
    # home/kitchen/pans/cast-iron (below every product: it matches none)
    world.publish_category_paths()
    put_rule(world.stack, "kitchen-down", kind="bury", category="home/kitchen", factor=0.01)
    put_rule(world.stack, "too-deep", kind="boost", category="home/kitchen/pans/cast-iron", factor=100)
    # When an anonymous visitor's homepage asks for 20 (the fill gathers all 60 for the rules)
    status, body, _ = world.ask(ANONYMOUS, limit="20")
    # Then knives and pans (below home/kitchen) sank out of the list; home/kitchenware (a prefix of
    # the characters, not of the segments) and garden make it, in their order, not ruled
    assert status == 200
    assert ids(body) == [sku(n) for n in range(40, 60)]
    assert {path_of(n) for n in range(40, 60)} == {"home/kitchenware", "garden"}
    assert "rule" not in reasons(body)


def test_a_category_rule_above_a_product_s_category_boosts_it_naming_the_rule(world: World) -> None:
    # Given the path categories, and a boost of home (above every knife, pan and kitchenware)
    world.publish_category_paths()
    put_rule(world.stack, "home-week", kind="boost", category="home", factor=1.5)
    # When an anonymous visitor's homepage asks for 60 (everything)
    _, body, _ = world.ask(ANONYMOUS, limit="60")
    # Then every product below home is named by the rule; garden's are not
    ruled = {p["id"] for p in body["products"] if p.get("ruleId") == "home-week"}
    assert ruled == {sku(n) for n in range(50)}
    assert [p["reason"] for p in body["products"] if p["id"] in {sku(n) for n in range(50, 60)}] == [
        "popular"
    ] * 10


def test_a_brand_is_boosted_case_insensitively(world: World) -> None:
    # Given brands in the catalog's attribute map, and a boost of "ACME" (sku_00052 is acme's)
    world.attributes({sku(n): ("acme" if n == 52 else "other", 10.0) for n in range(60)})
    put_rule(world.stack, "acme-week", kind="boost", brand="ACME", factor=10)
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then acme's product is second (its score capped at 1, after the first's 1), named by the rule
    assert ids(body)[:2] == [RICH[0], sku(52)]
    assert by_id(body)[sku(52)]["ruleId"] == "acme-week"


def test_rules_act_only_inside_their_window(world: World) -> None:
    # Given a pin that ends in an hour and one that starts tomorrow
    put_rule(
        world.stack, "ends-soon", kind="pin", productId=sku(5), position=1, **window(ends=timedelta(hours=1))
    )
    put_rule(
        world.stack,
        "starts-later",
        kind="pin",
        productId=sku(6),
        position=1,
        **window(starts=timedelta(days=1), ends=timedelta(days=2)),
    )
    # When the homepage asks now, in two hours, and the day after tomorrow... (the pinned clock)
    _, now, _ = world.ask("recommend_homepage")
    with time_machine.travel(PINNED_NOW + timedelta(hours=2), tick=True):
        _, later, _ = world.ask("recommend_homepage")
    with time_machine.travel(PINNED_NOW + timedelta(days=1, hours=1), tick=True):
        _, tomorrow, _ = world.ask("recommend_homepage")
    # Then each pin acts only while its window is open (without a new read of the rules)
    assert ids(now)[0] == sku(5)
    assert sku(6) not in ids(now)
    assert sku(5) not in ids(later)
    assert sku(6) not in ids(later)
    assert "rule" not in {p["reason"] for p in later["products"]}
    assert ids(tomorrow)[0] == sku(6)


def test_an_unreadable_rules_row_serves_without_rules_and_is_counted(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a rules row no version of the admin function could have written
    world.state.put({"pk": RULES_KEY[0], "sk": RULES_KEY[1], "d": "not json", "rev": 1})
    capsys.readouterr()
    # When the homepage asks
    status, body, _ = world.ask("recommend_homepage")
    # Then it is served as without rules, and the fault is logged and counted
    assert status == 200
    assert ids(body) == RICH
    output = capsys.readouterr().out
    assert any("RulesUnavailable" in document for document in emf_metrics(output))
