"""Anchors (the response's `basedOn`) through merging, the session's neighbours and the fill (pure)."""

from __future__ import annotations

from recs.serving.ranking import Anchor, AnchorOf, Filters, fill, merge_weighted, session_neighbours
from recs.serving.repository import Items

CART_A: Anchor = ("cart-a", "in-cart")
CART_B: Anchor = ("cart-b", "in-cart")


def test_a_merged_product_is_anchored_to_the_list_that_contributed_most() -> None:
    # Given the bought-together lists of two cart items, both holding "shared"
    of_a: Items = [("x", 4.0, "bought-together"), ("shared", 1.0, "bought-together")]
    of_b: Items = [("shared", 3.0, "bought-together"), ("y", 1.0, "bought-together")]
    anchored: dict[str, Anchor] = {}
    # When merged with each list's cart item as its anchor
    merged = merge_weighted([(of_a, 1.0), (of_b, 1.0)], anchors=[CART_A, CART_B], anchored=anchored)
    # Then "shared" (0.25 from a's list, 1.0 from b's) is b's; the others their own list's
    assert anchored == {"x": CART_A, "shared": CART_B, "y": CART_B}
    # And the ranking is the one merged without anchors
    assert merged == merge_weighted([(of_a, 1.0), (of_b, 1.0)])


def test_a_tie_between_lists_anchors_to_the_first() -> None:
    # Given two lists in which "p" contributes exactly as much
    first: Items = [("p", 2.0, "session")]
    second: Items = [("p", 5.0, "session")]
    anchored: dict[str, Anchor] = {}
    # When merged with one reason for all (the session's path) and anchors
    merged = merge_weighted(
        [(first, 1.0), (second, 1.0)], "session", anchors=[CART_A, CART_B], anchored=anchored
    )
    # Then the first list (the newest seed, for the session) is the anchor, and scores are unchanged
    assert anchored == {"p": CART_A}
    assert merged == merge_weighted([(first, 1.0), (second, 1.0)], "session") == [("p", 2.0, "session")]


def test_session_neighbours_are_anchored_to_the_recent_product_that_lifted_them_most() -> None:
    # Given a visitor who viewed "v" (newest) and bought "b" before it; both have neighbours
    neighbours: dict[str, Items] = {
        "v": [("n1", 1.0, "similar-items"), ("n2", 0.1, "similar-items")],
        "b": [("n2", 1.0, "similar-items"), ("n3", 0.5, "similar-items"), ("v", 0.9, "similar-items")],
    }
    anchored: dict[str, Anchor] = {}
    # When the session source is computed with anchors
    items = session_neighbours(
        [("v", "view"), ("b", "purchase")],
        lambda product: neighbours[product],
        limit=10,
        recent={"v", "b"},
        anchored=anchored,
    )
    # Then n1 is v's (viewed); n2 (0.1 from v's list, 0.5 from b's older purchase) and n3 are b's (bought)
    assert anchored["n1"] == ("v", "viewed")
    assert anchored["n2"] == ("b", "bought")
    assert anchored["n3"] == ("b", "bought")
    # And the list is the one computed without anchors (the recent products left out)
    assert items == session_neighbours(
        [("v", "view"), ("b", "purchase")], lambda product: neighbours[product], limit=10, recent={"v", "b"}
    )
    assert "v" not in {p for p, _, _ in items}


def test_an_add_to_cart_seed_is_a_viewed_anchor() -> None:
    # Given a visitor whose only recent event is an add-to-cart of "c"
    anchored: dict[str, Anchor] = {}
    # When the session source is computed
    session_neighbours(
        [("c", "add_to_cart")], lambda _: [("n", 1.0, "similar-items")], limit=5, anchored=anchored
    )
    # Then its neighbour is anchored to "c" as viewed (the cart may have changed since)
    assert anchored == {"n": ("c", "viewed")}


def _anchors_by_source(table: dict[str, dict[str, Anchor]]) -> AnchorOf:
    return lambda source, product, _reason: table.get(source, {}).get(product)


def test_fill_keeps_the_anchor_of_the_occurrence_it_keeps() -> None:
    # Given two sources both holding "dup", each anchoring it differently, and a third without anchors
    first: Items = [("a", 1.0, "similar-items"), ("dup", 0.5, "similar-items")]
    second: Items = [("dup", 1.0, "bought-together"), ("b", 0.5, "bought-together")]
    third: Items = [("c", 1.0, "popular")]
    table = {
        "similar": {"a": ("screen", "viewed"), "dup": ("screen", "viewed")},
        "bought-together": {"dup": CART_A, "b": CART_B},
    }
    # When filled in chain order
    filled = fill(
        [("similar", lambda: first), ("bought-together", lambda: second), ("popular", lambda: third)],
        10,
        Filters(),
        _anchors_by_source(table),
    )
    # Then "dup" is listed once, from the first source, with that source's anchor
    assert [p for p, _, _ in filled.products] == ["a", "dup", "b", "c"]
    assert filled.anchors == {"a": ("screen", "viewed"), "dup": ("screen", "viewed"), "b": CART_B}


def test_a_filtered_occurrence_leaves_the_anchor_to_the_next_one() -> None:
    # Given "dup" first in a source and excluded there by reason (a purchase), then kept later as buy-again
    first: Items = [("dup", 1.0, "session")]
    second: Items = [("dup", 1.0, "buy-again")]
    table = {"session": {"dup": ("seen", "viewed")}, "user": {"dup": ("dup", "bought")}}
    # When filled with "dup" among the purchases
    filled = fill(
        [("session", lambda: first), ("user", lambda: second)],
        10,
        Filters(purchased=frozenset({"dup"})),
        _anchors_by_source(table),
    )
    # Then the buy-again occurrence is kept, with its own anchor
    assert filled.products == [("dup", 1.0, "buy-again")]
    assert filled.anchors == {"dup": ("dup", "bought")}


def test_products_waiting_for_the_diversity_cap_keep_their_anchor() -> None:
    # Given a cap of one per category and a source with two products of one category
    items: Items = [("a", 1.0, "similar-items"), ("b", 0.9, "similar-items")]
    # When filled beyond what the cap lets through in order
    filled = fill(
        [("similar", lambda: items)],
        2,
        Filters(catalog={"a": "shoes", "b": "shoes"}, max_per_category=1),
        lambda source, product, reason: ("screen", "viewed"),
    )
    # Then the waiting product fills the list with its anchor
    assert [p for p, _, _ in filled.products] == ["a", "b"]
    assert filled.anchors == {"a": ("screen", "viewed"), "b": ("screen", "viewed")}


def test_fill_without_anchors_records_none() -> None:
    # Given/When a fill without an anchor function
    filled = fill([("popular", lambda: [("a", 1.0, "popular")])], 5, Filters())
    # Then no product is anchored
    assert filled.anchors == {}
