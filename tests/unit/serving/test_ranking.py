"""Blending, merging and filling lists (pure)."""

from __future__ import annotations

from recs.serving.ranking import Filters, blend, fill, merge_weighted, normalised
from recs.serving.repository import Items

A: Items = [("a", 4.0, "popular"), ("b", 2.0, "popular"), ("c", 1.0, "popular")]


def test_normalised_scores_are_relative_to_the_best() -> None:
    assert normalised(A) == [("a", 1.0, "popular"), ("b", 0.5, "popular"), ("c", 0.25, "popular")]


def test_merging_seed_lists_sums_weighted_scores_and_keeps_the_strongest_reason() -> None:
    # Given two seed lists sharing "b"
    first: Items = [("a", 1.0, "similar-items"), ("b", 0.5, "similar-items")]
    second: Items = [("b", 2.0, "bought-together"), ("d", 1.0, "bought-together")]
    # When merged with weights 1 and 2
    merged = merge_weighted([(first, 1.0), (second, 2.0)])
    # Then "b" (0.5 + 2 * 1.0) leads, with the reason of its larger contribution
    assert merged[0] == ("b", 2.5, "bought-together")
    assert [p for p, _, _ in merged] == ["b", "a", "d"]


def test_blending_adds_the_other_lists_products_with_their_reason() -> None:
    user: Items = [("a", 1.0, "similar-users"), ("b", 0.5, "similar-users")]
    session: Items = [("s", 1.0, "x")]
    blended = blend(user, session, 0.6, other_reason="session", keep_base_only=False)
    assert blended[0] == ("s", 0.6, "session")
    assert [p for p, _, _ in blended] == ["s", "a", "b"]


def test_re_ranking_keeps_only_the_base_products_and_their_reason() -> None:
    similar: Items = [("a", 1.0, "similar-items"), ("b", 0.5, "similar-items")]
    user: Items = [("b", 1.0, "similar-users"), ("z", 0.9, "similar-users")]
    reranked = blend(similar, user, 0.6, other_reason=None, keep_base_only=True)
    assert [p for p, _, _ in reranked] == ["b", "a"]
    assert {r for _, _, r in reranked} == {"similar-items"}


def test_a_zero_weight_changes_nothing() -> None:
    assert blend(A, [("z", 1.0, None)], 0.0, other_reason=None, keep_base_only=False) == A


def test_fill_takes_sources_in_order_skipping_duplicates_and_filtered_products() -> None:
    # Given two sources overlapping on "b", with "c" unavailable
    first: Items = [("a", 1.0, "user"), ("b", 0.9, "user")]
    second: Items = [("b", 10.0, "popular"), ("c", 9.0, "popular"), ("d", 8.0, "popular")]
    filled = fill(
        [("user", lambda: first), ("popular", lambda: second)], 3, Filters(excluded=frozenset({"c"}))
    )
    # Then a, b come from the first source and d from the second
    assert [p for p, _, _ in filled.products] == ["a", "b", "d"]
    assert filled.used == ["user", "popular"]
    # and scores never increase down the list
    scores = [s for _, s, _ in filled.products]
    assert scores == sorted(scores, reverse=True)


def test_fill_stops_asking_sources_once_full() -> None:
    asked: list[str] = []

    def source(name: str) -> list[tuple[str, float, str | None]]:
        asked.append(name)
        return [(f"{name}{n}", 1.0 - n / 10, None) for n in range(5)]

    fill([("one", lambda: source("one")), ("two", lambda: source("two"))], 3, Filters())
    assert asked == ["one"]


def test_purchases_are_filtered_unless_the_reason_is_buy_again() -> None:
    filters = Filters(purchased=frozenset({"a", "b"}))
    assert not filters.allows("a", "popular")
    assert filters.allows("b", "buy-again")


def test_the_category_filter_uses_the_catalog() -> None:
    filters = Filters(category="shoes", catalog={"a": "shoes", "b": "hats"})
    assert filters.allows("a", None)
    assert not filters.allows("b", None)
    assert not filters.allows("unknown", None)


def test_a_source_that_answered_but_was_filtered_counts_as_answered() -> None:
    filled = fill([("popular", lambda: [("a", 1.0, None)])], 5, Filters(excluded=frozenset({"a"})))
    assert filled.products == []
    assert filled.answered == ["popular"]
