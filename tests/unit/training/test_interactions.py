"""From events to interactions: window, dedupe, identity merge, exclusions, malformed input."""

from __future__ import annotations

import pytest

from recs.training.prepare.catalog import Catalog
from recs.training.prepare.interactions import PURCHASE_CODE, InteractionBuilder, build_interactions
from tests.unit.training.conftest import NOW, EventFactory

END = NOW.timestamp()
START = END - 30 * 86_400


def test_a_resent_event_counts_once(make_event: EventFactory) -> None:
    # Given the same event delivered twice (a client retry), and another event
    first = make_event("purchase", product="p1")
    events = [first, dict(first), make_event("view", product="p2")]
    # When the interactions are built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then the duplicate is dropped and counted
    assert len(inter) == 2
    assert inter.stats["duplicatesDropped"] == 1
    assert sorted(inter.items) == ["p1", "p2"]


def test_with_a_catalog_export_products_it_does_not_list_are_left_out_and_counted(
    make_event: EventFactory,
) -> None:
    # Given events of a listed product, a listed but unavailable one and two unlisted ones
    catalog = Catalog.from_jsonl(['{"id": "p1"}', '{"id": "p2", "available": false}'])
    events = [
        make_event("view", product="p1"),
        make_event("purchase", product="p2", user="bob"),
        make_event("view", product="fake1", user="mallory"),
        make_event("view", product="fake1", user="mallory"),
        make_event("click", product="fake2"),
    ]
    # When the interactions are built with the catalog
    inter = build_interactions(events, start_ts=START, end_ts=END, known_product=catalog.known_product())
    # Then only listed products remain (availability is decided later), the others are counted,
    # and a visitor with nothing but unlisted products is not indexed
    assert sorted(inter.items) == ["p1", "p2"]
    assert inter.stats["unknownProductEvents"] == 3
    assert "mallory" not in inter.users


def test_without_a_catalog_export_every_product_is_kept(make_event: EventFactory) -> None:
    # Given events of products no catalog lists, and no catalog export
    events = [make_event("view", product="fake1"), make_event("view", product="p1")]
    # When the interactions are built
    absent = Catalog.absent()
    inter = build_interactions(events, start_ts=START, end_ts=END, known_product=absent.known_product())
    # Then every product is kept and nothing is counted as unknown
    assert sorted(inter.items) == ["fake1", "p1"]
    assert inter.stats["unknownProductEvents"] == 0


def test_only_events_inside_the_window_are_kept(make_event: EventFactory) -> None:
    # Given events 1, 29 and 31 days old, and one from the future
    events = [make_event(days_ago=d, product=f"p{d}") for d in (1, 29, 31, -1)]
    # When the 30-day window ending now is built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then only the two inside are kept
    assert sorted(inter.items) == ["p1", "p29"]
    assert inter.stats["outsideWindow"] == 2


def test_anonymous_history_is_credited_to_the_user_it_logged_in_as(make_event: EventFactory) -> None:
    # Given browsing as an anonymous visitor, then a login event carrying both ids
    events = [
        make_event(user=None, anon="a1", product="p1", days_ago=3),
        make_event(user="alice", anon="a1", product="p2", days_ago=2),
        make_event(user=None, anon="a2", product="p3", days_ago=2),
    ]
    # When the interactions are built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then alice owns p1 and p2; the never-linked visitor stays anonymous
    owner = {inter.items[i]: inter.users[u] for u, i in zip(inter.user, inter.item, strict=True)}
    assert owner == {"p1": "alice", "p2": "alice", "p3": "a2"}
    assert inter.is_user.tolist() == [u == "alice" for u in inter.users]
    assert inter.stats["anonymousMerged"] == 1


def test_a_shared_anonymous_id_follows_its_latest_login(make_event: EventFactory) -> None:
    # Given one browser that logged in as bob, later as carol
    events = [
        make_event(user=None, anon="a1", product="p1", days_ago=5),
        make_event(user="bob", anon="a1", product="p2", days_ago=4),
        make_event(user="carol", anon="a1", product="p3", days_ago=1),
    ]
    # When the interactions are built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then the anonymous history goes to carol, the latest login
    owner = {inter.items[i]: inter.users[u] for u, i in zip(inter.user, inter.item, strict=True)}
    assert owner["p1"] == "carol"
    assert owner["p2"] == "bob"


def test_the_same_string_as_user_and_anonymous_id_does_not_merge(make_event: EventFactory) -> None:
    # Given a user id and an unrelated anonymous id that happen to be equal strings
    events = [make_event(user="x1", product="p1"), make_event(user=None, anon="x1", product="p2")]
    # When the interactions are built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then they remain two visitors, one known user
    assert inter.n_users == 2
    assert sorted(inter.is_user.tolist()) == [False, True]


def test_excluded_visitors_lose_every_event_including_merged_anonymous_ones(
    make_event: EventFactory,
) -> None:
    # Given alice (who browsed anonymously first) and bob
    events = [
        make_event(user=None, anon="a1", product="p1", days_ago=3),
        make_event(user="alice", anon="a1", product="p2", days_ago=2),
        make_event(user="bob", product="p3"),
    ]
    asked: list[tuple[str, bool]] = []

    def excluded(visitor: str, is_user: bool) -> bool:
        asked.append((visitor, is_user))
        return visitor == "alice"

    # When alice is excluded (opted out)
    inter = build_interactions(events, start_ts=START, end_ts=END, excluded=excluded)
    # Then none of her events remain, not even the anonymous ones, and she is not indexed at all
    assert inter.users == ["bob"]
    assert inter.items == ["p3"]
    assert inter.stats["excludedVisitorEvents"] == 2
    # (the linked anonymous id is asked about its own events first, before it is merged)
    assert sorted(asked) == [("a1", False), ("alice", True), ("bob", True)]


def test_a_linked_anonymous_id_that_opted_out_loses_its_own_events_not_the_users(
    make_event: EventFactory,
) -> None:
    # Given alice, who browsed anonymously as a1 before logging in on that browser
    events = [
        make_event(user=None, anon="a1", product="p1", days_ago=3),
        make_event(user="alice", anon="a1", product="p2", days_ago=2),
        make_event(user="alice", product="p3", days_ago=1),
    ]
    # When the holder of a1 opted out (or erased it) and alice did not
    inter = build_interactions(events, start_ts=START, end_ts=END, excluded=lambda v, _u: v == "a1")
    # Then a1's anonymous event is not merged into alice's history; alice's signed-in ones stay
    assert inter.users == ["alice"]
    assert sorted(inter.items) == ["p2", "p3"]
    assert inter.stats["excludedVisitorEvents"] == 1
    assert inter.stats["excludedLinkedAnonymousIds"] == 1


def test_malformed_events_and_searches_are_counted_not_raised(make_event: EventFactory) -> None:
    # Given a search (no product), an unknown event type, a bad timestamp and no visitor id
    events = [
        make_event("search", product=None, query="mugs"),
        make_event("teleport"),
        {**make_event(), "timestamp": "yesterday"},
        make_event(user=None),
        make_event("purchase", quantity=3),
    ]
    # When the interactions are built
    builder = InteractionBuilder().add_all(events)
    inter = builder.build(start_ts=START, end_ts=END)
    # Then only the purchase is kept, and the rest are accounted for
    assert len(inter) == 1
    assert inter.event.tolist() == [PURCHASE_CODE]
    assert inter.quantity.tolist() == [3.0]
    assert inter.stats["malformed"] == 3
    assert inter.stats["withoutProduct"] == 1


def test_categories_and_sessions_are_kept(make_event: EventFactory) -> None:
    # Given two events of one session with a category, and one without a session
    events = [
        make_event(product="p1", category="kitchen", session="s1"),
        make_event(product="p2", session="s1"),
        make_event(product="p1", user="bob"),
    ]
    # When the interactions are built
    inter = build_interactions(events, start_ts=START, end_ts=END)
    # Then the category is known for p1, and the session groups the first two events
    assert dict(zip(inter.items, inter.item_category, strict=True)) == {"p1": "kitchen", "p2": None}
    assert inter.basket.tolist()[0] == inter.basket.tolist()[1] >= 0
    assert inter.basket.tolist()[2] == -1


def test_a_builder_builds_once(make_event: EventFactory) -> None:
    # Given a builder that built its interactions (releasing its per-event columns)
    builder = InteractionBuilder().add_all([make_event("purchase")])
    assert len(builder.build(start_ts=START, end_ts=END)) == 1
    # When it is asked to take more events or build again / Then it refuses rather than build from nothing
    with pytest.raises(RuntimeError, match="built its interactions already"):
        builder.add(make_event())
    with pytest.raises(RuntimeError, match="built its interactions already"):
        builder.build(start_ts=START, end_ts=END)
