"""Blending, merging and filling lists (pure)."""

from __future__ import annotations

import pytest

from recs.serving.ranking import Filled, Filters, blend, fill, merge_weighted, mix_in, normalised
from recs.serving.repository import Items

A: Items = [("a", 4.0, "popular"), ("b", 2.0, "popular"), ("c", 1.0, "popular")]


def test_normalised_scores_are_relative_to_the_best() -> None:
    # Given/When the popular list A (scores 4, 2, 1) is normalised
    # Then each score is divided by the best one (4), and the reasons are kept
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


def test_merging_with_one_reason_sums_the_same_scores_and_labels_every_product_with_it() -> None:
    # Given the two seed lists of the previous test
    first: Items = [("a", 1.0, "similar-items"), ("b", 0.5, "similar-items")]
    second: Items = [("b", 2.0, "bought-together"), ("d", 1.0, "bought-together")]
    # When merged with one reason for all (the session's neighbours)
    merged = merge_weighted([(first, 1.0), (second, 2.0)], reason="session")
    # Then the scores and order are those of the per-product merge, every reason is "session"
    assert [(p, s) for p, s, _ in merged] == [
        (p, s) for p, s, _ in merge_weighted([(first, 1.0), (second, 2.0)])
    ]
    assert {r for _, _, r in merged} == {"session"}


def test_equal_scores_are_ordered_by_product_id_whatever_the_input_order() -> None:
    # Given lists whose products all score the same, in reverse id order
    tied: Items = [("c", 1.0, "popular"), ("b", 1.0, "popular"), ("a", 1.0, "popular")]
    # When merged (with and without one reason), and re-ranked by a list sharing none of them
    merged = merge_weighted([(tied, 1.0)])
    merged_one_reason = merge_weighted([(tied, 1.0)], reason="session")
    blended = blend(tied, [("z", 1.0, None)], 0.5, other_reason=None, keep_base_only=True)
    # Then ties are broken by id, so the order is deterministic
    assert [p for p, _, _ in merged] == ["a", "b", "c"]
    assert [p for p, _, _ in merged_one_reason] == ["a", "b", "c"]
    assert [p for p, _, _ in blended] == ["a", "b", "c"]


def test_blending_adds_the_other_lists_products_with_their_reason() -> None:
    # Given a user list and a session list holding a product the user list lacks
    user: Items = [("a", 1.0, "similar-users"), ("b", 0.5, "similar-users")]
    session: Items = [("s", 1.0, "x")]
    # When the session list is blended in at weight 0.6 with the reason "session"
    blended = blend(user, session, 0.6, other_reason="session", keep_base_only=False)
    # Then its product is added with score 0.6 and the reason "session" (not its own "x")
    assert blended[0] == ("s", 0.6, "session")
    # and it ranks above the user's products, now scored 0.4 and 0.2
    assert [p for p, _, _ in blended] == ["s", "a", "b"]


def test_re_ranking_keeps_only_the_base_products_and_their_reason() -> None:
    # Given a product page's similar items and a user list that shares only "b" with them
    similar: Items = [("a", 1.0, "similar-items"), ("b", 0.5, "similar-items")]
    user: Items = [("b", 1.0, "similar-users"), ("z", 0.9, "similar-users")]
    # When the user list re-ranks the similar items at weight 0.6, keeping the base products only
    reranked = blend(similar, user, 0.6, other_reason=None, keep_base_only=True)
    # Then "b" (0.2 + 0.6) overtakes "a" (0.4), and the user list's "z" is not added
    assert [p for p, _, _ in reranked] == ["b", "a"]
    # and every product keeps the similar-items reason
    assert {r for _, _, r in reranked} == {"similar-items"}


def test_a_zero_weight_changes_nothing() -> None:
    # Given/When list A is blended with another list at weight 0
    # Then A comes back unchanged
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
    # Given two sources of five products each, which record being asked
    asked: list[str] = []

    def source(name: str) -> list[tuple[str, float, str | None]]:
        asked.append(name)
        return [(f"{name}{n}", 1.0 - n / 10, None) for n in range(5)]

    # When a list of 3 is filled from them
    fill([("one", lambda: source("one")), ("two", lambda: source("two"))], 3, Filters())
    # Then only the first source is asked: it fills the list on its own
    assert asked == ["one"]


def test_purchases_are_filtered_unless_the_reason_is_buy_again() -> None:
    # Given a user who bought "a" and "b"
    filters = Filters(purchased=frozenset({"a", "b"}))
    # When "a" is offered as popular and "b" as buy-again
    # Then "a" is filtered out and "b" is allowed
    assert not filters.allows("a", "popular")
    assert filters.allows("b", "buy-again")


def test_the_category_filter_uses_the_catalog() -> None:
    # Given a "shoes" category filter and a catalog placing "a" in shoes and "b" in hats
    filters = Filters(categories=frozenset({"shoes"}), catalog={"a": "shoes", "b": "hats"})
    # When products are checked against it
    # Then only the product in shoes passes; one in another category or missing from the catalog does not
    assert filters.allows("a", None)
    assert not filters.allows("b", None)
    assert not filters.allows("unknown", None)


def test_a_source_that_answered_but_was_filtered_counts_as_answered() -> None:
    # Given a popular source whose only product is excluded
    # When a list is filled from it
    filled = fill([("popular", lambda: [("a", 1.0, None)])], 5, Filters(excluded=frozenset({"a"})))
    # Then nothing is served, but popular counts as a source that answered
    assert filled.products == []
    assert filled.answered == ["popular"]


def _filled(n: int) -> Filled:
    return Filled([(f"p{i}", round(1.0 - i / 20, 5), "similar-users") for i in range(n)], ["user"], ["user"])


@pytest.mark.parametrize(
    ("share", "limit", "expected"), [(0.1, 10, 1), (0.2, 10, 2), (0.1, 5, 0), (0.0, 10, 0)]
)
def test_new_arrivals_take_their_share_of_slots(share: float, limit: int, expected: int) -> None:
    # Given a full list and enough new arrivals
    filled = _filled(limit)
    new = [(f"n{i}", 1.0, "new-arrival") for i in range(5)]
    # When they are mixed in at the configured share
    mixed = mix_in(filled, new, share, limit, Filters(), "new-arrivals")
    # Then floor(limit * share) slots are theirs, the list keeps its length, scores never rise
    assert mixed == expected
    assert len(filled.products) == limit
    assert sum(1 for _, _, reason in filled.products if reason == "new-arrival") == expected
    scores = [s for _, s, _ in filled.products]
    assert scores == sorted(scores, reverse=True)
    assert ("new-arrivals" in filled.used) == (expected > 0)


def test_mixed_in_arrivals_are_spread_filtered_and_never_duplicates() -> None:
    # Given a list of 10, new arrivals of which one is already listed and one is excluded
    filled = _filled(10)
    new = [
        ("p3", 1.0, "new-arrival"),
        ("banned", 1.0, "new-arrival"),
        ("n1", 1.0, "new-arrival"),
        ("n2", 1.0, "new-arrival"),
    ]
    # When a fifth of the slots go to them
    mix_in(filled, new, 0.2, 10, Filters(excluded=frozenset({"banned"})), "new-arrivals")
    ids = [p for p, _, _ in filled.products]
    # Then the two allowed, unlisted ones are placed apart, and the list's last two made room
    assert ids.count("p3") == 1
    assert "banned" not in ids
    assert [i for i, p in enumerate(ids) if p.startswith("n")] == [2, 7]
    assert ids[-1] == "p7"
