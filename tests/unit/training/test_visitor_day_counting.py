"""Co-occurrence counts visitors, not the sessions a client opens: one visitor adds at most one
session's worth to a pair of products per day (bought together, session co-occurrence and
proximity), so one client cannot steer the lists shown beside a product."""

from __future__ import annotations

import numpy as np
import pytest

from recs.training.fit import lists
from recs.training.prepare.interactions import Interactions, build_interactions
from tests.unit.training.conftest import NOW, EventFactory

END = NOW.timestamp()


def _build(events: list[dict[str, object]]) -> Interactions:
    return build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)


def _visits(
    make_event: EventFactory, visits: list[tuple[str, str, list[str]]], event_type: str = "view"
) -> list[dict[str, object]]:
    """(visitor, session id, products in order), all on the same day (12 h before NOW)."""
    return [
        make_event(event_type, user=visitor, product=product, session=session, days_ago=0.5 - n / 10_000)
        for n, (visitor, session, products) in enumerate(visits)
        for product in products
    ]


def test_a_visitors_sessions_of_one_day_share_one_weight(make_event: EventFactory) -> None:
    # Given a visitor with three sessions today, one with a session yesterday, one with one today
    events = [
        *_visits(make_event, [("mallory", f"m{n}", ["a"]) for n in range(3)]),
        make_event(user="mallory", product="a", session="old", days_ago=1.5),
        *_visits(make_event, [("alice", "a1", ["a"])]),
    ]
    interactions = _build(events)
    sessions = interactions.basket >= 0
    # When each session's weight is computed
    weights = lists.visit_weights(interactions, sessions)
    # Then today's three share one (a third each) and the others weigh one each
    assert sorted(weights.tolist()) == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0, 1.0])


@pytest.mark.parametrize("count", [lists.session_cooccurrence, lists.session_proximity])
def test_one_visitor_opening_many_sessions_counts_once_a_day(
    make_event: EventFactory, count: lists.SessionCount
) -> None:
    # Given three shoppers who viewed a then b, and one client that opens 200 sessions today
    # each viewing a then t
    genuine = [(f"shopper{n}", f"s{n}", ["a", "b"]) for n in range(3)]
    fake = [("mallory", f"fake{n}", ["a", "t"]) for n in range(200)]
    interactions = _build(_visits(make_event, [*genuine, *fake]))
    at = {product: i for i, product in enumerate(interactions.items)}
    # When the session co-occurrence is counted
    co, totals = count(interactions)
    dense = co.toarray()
    # Then the client counts as one visit with a and t, so b stays a's nearest neighbour
    assert dense[at["a"], at["t"]] == pytest.approx(1.0)
    assert dense[at["a"], at["b"]] == pytest.approx(3.0)
    assert totals[at["t"]] == pytest.approx(1.0)


def test_going_back_and_forth_in_one_visit_adds_no_more_than_one_step(make_event: EventFactory) -> None:
    # Given one visit that alternates a and t 100 times, and another that views a then b
    events = [
        make_event(user="mallory", product="a" if n % 2 == 0 else "t", session="m", days_ago=0.5 - n / 10_000)
        for n in range(200)
    ]
    events += _visits(make_event, [("alice", "s1", ["a", "b"])])
    interactions = _build(events)
    at = {product: i for i, product in enumerate(interactions.items)}
    # When the proximity co-occurrence is counted
    co, _ = lists.session_proximity(interactions)
    # Then the alternating visit counts its pair once, as one step apart, like the honest one
    assert co[at["a"], at["t"]] == pytest.approx(1.0)
    assert co[at["a"], at["b"]] == pytest.approx(1.0)


def test_a_client_buying_a_pair_in_many_baskets_does_not_make_it_bought_together(
    make_event: EventFactory,
) -> None:
    # Given three shoppers who bought a with b, and one client that bought a with t in 100 baskets today
    genuine = [(f"shopper{n}", f"s{n}", ["a", "b"]) for n in range(3)]
    fake = [("mallory", f"fake{n}", ["a", "t"]) for n in range(100)]
    interactions = _build(_visits(make_event, [*genuine, *fake], event_type="purchase"))
    at = {product: i for i, product in enumerate(interactions.items)}
    available = np.ones(interactions.n_items, dtype=np.bool_)
    # When the bought-together lists are built
    together = lists.bought_together(interactions, k=5, available=available)
    # Then a's list leads with b, which three shoppers bought with it
    assert together[at["a"]][0][0] == at["b"]


def test_the_same_pair_on_different_days_counts_each_day(make_event: EventFactory) -> None:
    # Given one shopper who viewed a then b in one session on each of three days
    events = [
        make_event(user="alice", product=product, session=f"day{day}", days_ago=day + 0.5 - step / 10_000)
        for day in range(3)
        for step, product in enumerate(["a", "b"])
    ]
    interactions = _build(events)
    at = {product: i for i, product in enumerate(interactions.items)}
    # When the session co-occurrence is counted
    co, _ = lists.session_cooccurrence(interactions)
    # Then each day's visit counts in full
    assert co[at["a"], at["b"]] == pytest.approx(3.0)
