"""Serving's rules: what each kind does to a filled list, and the per-container rules cache
(its TTL, rules starting and ending between reads, a store that cannot be read)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from recs.errors import StoreUnavailableError
from recs.rules.model import Rule
from recs.serving.ranking import Filters, in_categories
from recs.serving.rules import NO_RULES, ContextRules, RuleCache
from tests.clock import PINNED_NOW

LISTED = [("a", 1.0, "popular"), ("b", 0.8, "popular"), ("c", 0.6, "popular"), ("d", 0.4, "popular")]


def rule(rule_id: str, start: datetime = PINNED_NOW, hours: float = 24, **fields: Any) -> Rule:
    return Rule.model_validate(
        {
            "id": rule_id,
            "updatedBy": "arn:aws:iam::1:user/op",
            "updatedAt": PINNED_NOW,
            "startsAt": start,
            "endsAt": start + timedelta(hours=hours),
            **fields,
        }
    )


def applied(rules: list[Rule], filters: Filters | None = None, limit: int = 4, **maps: Any) -> Any:
    return ContextRules.of(rules).apply(
        LISTED,
        filters or Filters(),
        catalog=maps.get("catalog", {}),
        attributes=maps.get("attributes", {}),
        limit=limit,
    )


def test_a_pin_places_its_product_at_its_position_with_the_score_of_the_one_before() -> None:
    # Given a pin of "x" (not in the list) at position 2 / When applied to a list of 4
    products, ruled = applied([rule("p", kind="pin", productId="x", position=2)])
    assert products == [
        ("a", 1.0, "popular"),
        ("x", 1.0, "rule"),
        ("b", 0.8, "popular"),
        ("c", 0.6, "popular"),
    ]
    assert ruled == {"x": "p"}


def test_a_pin_of_a_listed_product_moves_it_and_a_pin_past_the_end_appends_it() -> None:
    # Given a pin of the last product at 1, and one of a new product at 50 (limit 5)
    moved, _ = applied([rule("p", kind="pin", productId="d", position=1)])
    appended, _ = applied([rule("p", kind="pin", productId="x", position=50)], limit=5)
    assert [p for p, _, _ in moved] == ["d", "a", "b", "c"]
    assert moved[0] == ("d", 1.0, "rule")
    assert [p for p, _, _ in appended] == ["a", "b", "c", "d", "x"]


def test_a_pin_the_request_s_filters_refuse_is_not_placed() -> None:
    # Given a pin of a product the request excludes / When applied / Then nothing moves
    products, ruled = applied(
        [rule("p", kind="pin", productId="x", position=1)], Filters(excluded=frozenset({"x"}))
    )
    assert products == LISTED
    assert ruled == {}


def test_a_pin_of_a_product_the_catalog_does_not_know_is_not_placed() -> None:
    # Given a pin of a product missing from the category map / When applied / Then nothing moves
    rules = [rule("p", kind="pin", productId="typo", position=1)]
    products, ruled = applied(rules, catalog={"a": "shoes", "x": "shoes"})
    assert products == LISTED
    assert ruled == {}
    assert ContextRules.of(rules).needs_catalog


def test_boosts_and_buries_rescore_and_resort_naming_the_rule() -> None:
    # Given a boost of "d" (x3) and a bury of the category of "a" (x0.1) / When applied
    products, ruled = applied(
        [
            rule("up", kind="boost", productId="d", factor=3),
            rule("down", kind="bury", category="shoes", factor=0.1),
        ],
        catalog={"a": "shoes"},
    )
    assert products == [("d", 1.0, "rule"), ("b", 0.8, "popular"), ("c", 0.6, "popular"), ("a", 0.1, "rule")]
    assert ruled == {"d": "up", "a": "down"}


def test_a_brand_rule_matches_the_catalog_s_lower_cased_brand() -> None:
    # Given a boost of "ACME" and "c" of brand "acme" in the attribute map / When applied
    products, ruled = applied(
        [rule("acme", kind="boost", brand="ACME", factor=2)], attributes={"c": ["acme", 5.0]}
    )
    assert [p for p, _, _ in products] == ["a", "c", "b", "d"]
    assert ruled == {"c": "acme"}


def test_several_rules_on_one_product_multiply_and_the_strongest_names_it() -> None:
    # Given two boosts matching "d" (by id x1.5, by category x2) / When applied
    products, ruled = applied(
        [
            rule("small", kind="boost", productId="d", factor=1.5),
            rule("big", kind="boost", category="shoes", factor=2),
        ],
        catalog={"d": "shoes"},
    )
    # d: 0.4 * 1.5 * 2, capped at 1, after "a" (1.0, earlier in the list)
    assert products[:2] == [("a", 1.0, "popular"), ("d", 1.0, "rule")]
    assert ruled == {"d": "big"}


def test_blocks_are_the_filters_part_and_are_not_applied_again() -> None:
    # Given a block / Then it is a filter (the fill skips it), and applying changes nothing
    rules = ContextRules.of([rule("b", kind="block", productId="a")])
    assert rules.blocked == frozenset({"a"})
    assert rules.apply(LISTED, Filters(), catalog={}, attributes={}, limit=4) == (LISTED, {})


class Reader:
    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.reads = 0
        self.failing = False

    def read(self) -> tuple[list[Rule], int]:
        self.reads += 1
        if self.failing:
            raise StoreUnavailableError("down")
        return list(self.rules), 1


class Clocks:
    def __init__(self) -> None:
        self.wall = PINNED_NOW.timestamp()
        self.mono = 0.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def cache(reader: Reader, clocks: Clocks) -> RuleCache:
    return RuleCache(
        reader, ttl_seconds=30, retry_seconds=5, clock=lambda: clocks.wall, monotonic=lambda: clocks.mono
    )


def test_the_rules_are_read_once_per_ttl_and_per_context() -> None:
    # Given a cart-only pin behind a 30 s TTL / When asked for twice within it, then past it
    reader, clocks = Reader([rule("p", kind="pin", productId="x", position=1, contexts=["cart"])]), Clocks()
    rules = cache(reader, clocks)
    assert rules.for_context("cart").pins == ((1, "x", "p"),)
    assert rules.for_context("homepage") is NO_RULES
    clocks.advance(29)
    rules.for_context("cart")
    assert reader.reads == 1
    clocks.advance(2)
    rules.for_context("cart")
    assert reader.reads == 2


def test_a_rule_starts_and_ends_on_time_between_two_reads() -> None:
    # Given a block active from +10 s to +20 s, read once / When the clock passes both edges
    later = PINNED_NOW + timedelta(seconds=10)
    reader, clocks = Reader([rule("p", start=later, hours=10 / 3600, kind="block", productId="x")]), Clocks()
    rules = cache(reader, clocks)
    assert rules.for_context("homepage") is NO_RULES
    clocks.advance(10)
    assert rules.for_context("homepage").blocked == frozenset({"x"})
    clocks.advance(10)
    assert rules.for_context("homepage") is NO_RULES
    assert reader.reads == 1


def test_a_store_fault_keeps_the_last_rules_and_retries_after_the_retry_delay() -> None:
    # Given rules read once, then a failing store / When the TTL passes, and the retry delay
    reader, clocks = Reader([rule("b", kind="block", productId="x")]), Clocks()
    rules = cache(reader, clocks)
    rules.for_context("homepage")
    reader.failing = True
    clocks.advance(31)
    assert rules.for_context("homepage").blocked == frozenset({"x"})
    assert rules.unavailable
    clocks.advance(4)
    rules.for_context("homepage")
    assert reader.reads == 2
    reader.failing = False
    clocks.advance(1)
    rules.for_context("homepage")
    assert reader.reads == 3
    assert not rules.unavailable


def test_a_store_that_never_answered_serves_no_rules() -> None:
    # Given a store that fails from the start / When asked / Then no rules, flagged unavailable
    reader, clocks = Reader([]), Clocks()
    reader.failing = True
    rules = cache(reader, clocks)
    assert rules.for_context("homepage") is NO_RULES
    assert rules.unavailable


def test_no_store_means_no_rules_and_no_reads() -> None:
    # Given no store at all (None) / When asked / Then no rules
    assert RuleCache(None, ttl_seconds=30).for_context("homepage") is NO_RULES


def test_boosts_and_buries_choose_the_list_among_a_deeper_fill() -> None:
    # Given a boost of the 4th candidate, and a list of 2 out of a deeper fill of 4
    rules = ContextRules.of([rule("up", kind="boost", productId="d", factor=10)])
    ruled: dict[str, str] = {}
    # When re-ranked
    kept = rules.rerank(LISTED, catalog={}, attributes={}, limit=2, ruled=ruled)
    # Then the fill went 3 times deeper, "d" rose into the 2, and only shown products are named
    assert rules.depth(2) == 6
    assert ContextRules.of([rule("b", kind="block", productId="a")]).depth(2) == 2
    assert kept == [("a", 1.0, "popular"), ("d", 1.0, "rule")]
    assert ruled == {"d": "up"}


def test_a_product_a_pin_pushes_out_of_the_list_is_no_longer_named() -> None:
    # Given a bury of "a" to the end of a list of 4, and a pin of "x" first
    rules = ContextRules.of(
        [rule("up", kind="bury", productId="a", factor=0.1), rule("p", kind="pin", productId="x", position=1)]
    )
    # When both are applied to a list of 4
    products, ruled = rules.apply(LISTED, Filters(), catalog={}, attributes={}, limit=4)
    # Then the buried "a" fell off the end and is not named; the pinned "x" is
    assert [p for p, _, _ in products] == ["x", "b", "c", "d"]
    assert ruled == {"x": "p"}


# -- category rules on category paths ----------------------------------------------------------
#: a: the rule's own category; b: below it; c: two levels below; d: a sibling sharing its prefix.
PATHS = {
    "a": "home/kitchen",
    "b": "home/kitchen/knives",
    "c": "home/kitchen/knives/chef",
    "d": "home/kitchenware",
}


def test_a_category_rule_acts_on_its_category_and_every_category_below_it() -> None:
    # Given a bury of home/kitchen / When applied to products of it, below it and of a sibling
    products, ruled = applied([rule("down", kind="bury", category="home/kitchen", factor=0.1)], catalog=PATHS)
    # Then home/kitchen itself and both levels below it are buried, named by the rule
    assert ruled == {"a": "down", "b": "down", "c": "down"}
    # And home/kitchenware (a prefix of the characters, not of the segments) keeps its place and score
    assert products[0] == ("d", 0.4, "popular")
    assert [p for p, _, _ in products] == ["d", "a", "b", "c"]


def test_a_category_rule_never_acts_above_it_nor_on_a_partial_segment() -> None:
    # Given a boost of home/kitchen/knives and one of home/kit (a partial segment)
    rules = [
        rule("knives", kind="boost", category="home/kitchen/knives", factor=2),
        rule("kit", kind="boost", category="home/kit", factor=50),
    ]
    # When applied
    _, ruled = applied(rules, catalog=PATHS)
    # Then only knives and the category below it are boosted: not their parent home/kitchen, and
    # nothing by home/kit
    assert ruled == {"b": "knives", "c": "knives"}


def test_a_category_rule_matches_case_as_the_category_filter_does() -> None:
    # Given a boost of Home/Kitchen (the catalog spells it home/kitchen), and one of a flat category
    rules = ContextRules.of(
        [
            rule("upper", kind="boost", category="Home/Kitchen", factor=2),
            rule("flat", kind="boost", category="shoes"),
        ]
    )
    filters = Filters(categories=frozenset({"Home/Kitchen"}), catalog=PATHS)
    # Then the rule matches none of them, as the category filter lets none of them pass
    assert all(rules.category_adjustment(category) is None for category in PATHS.values())
    assert not any(filters.allows(product, None) for product in PATHS)
    # And a flat category still matches exactly: shoes, not shoes-sale
    assert rules.category_adjustment("shoes") == (2.0, "flat")
    assert rules.category_adjustment("shoes-sale") is None


def test_rules_on_a_category_and_on_one_above_it_multiply_and_the_strongest_names_them() -> None:
    # Given a boost of home (x3) and a bury of home/kitchen/knives (x0.5)
    rules = ContextRules.of(
        [
            rule("home-up", kind="boost", category="home", factor=3),
            rule("knives-down", kind="bury", category="home/kitchen/knives", factor=0.5),
        ]
    )
    # Then a knife is x1.5, named by the boost (the larger effect); home/kitchen only boosted
    assert rules.category_adjustment("home/kitchen/knives") == (1.5, "home-up")
    assert rules.category_adjustment("home/kitchen") == (3.0, "home-up")
    assert rules.category_adjustment("garden") is None


def test_a_category_is_matched_once_per_rule_set_not_per_candidate(monkeypatch: Any) -> None:
    # Given category rules, and the matching counted
    import recs.serving.rules as serving_rules

    calls: list[str] = []

    def counted(category: str | None, wanted: Any) -> bool:
        calls.append(category or "")
        return in_categories(category, wanted)

    monkeypatch.setattr(serving_rules, "in_categories", counted)
    rules = ContextRules.of([rule("down", kind="bury", category="home/kitchen", factor=0.5)])
    # When two requests re-rank the same candidates
    first = rules.apply(LISTED, Filters(), catalog=PATHS, attributes={}, limit=4)
    matched = len(calls)
    second = rules.apply(LISTED, Filters(), catalog=PATHS, attributes={}, limit=4)
    # Then the second matched nothing again, and both are the same
    assert matched > 0
    assert len(calls) == matched
    assert first == second
