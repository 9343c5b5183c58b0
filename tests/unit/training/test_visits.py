"""Visits (a session, or a burst of events without one) and the per-shopper holdout on them."""

from __future__ import annotations

import numpy as np

from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.visits import find_visits, last_visit_holdout
from tests.unit.training.conftest import EventFactory


def _interactions(make_event: EventFactory, events: list[dict[str, object]]) -> Interactions:
    return build_interactions(events, start_ts=0, end_ts=4e9)


def test_events_without_a_session_split_into_visits_at_long_pauses(make_event: EventFactory) -> None:
    # Given alice's events: two 10 minutes apart, one two hours later, and a session of two
    minute = 1 / 1440
    events = [
        make_event(product="a", days_ago=1.0),
        make_event(product="b", days_ago=1.0 - 10 * minute),
        make_event(product="c", days_ago=1.0 - 120 * minute),
        make_event(product="d", days_ago=0.5, session="s1"),
        make_event(product="a", days_ago=0.5 - 5 * minute, session="s1"),
    ]
    inter = _interactions(make_event, events)
    # When visits are found with a 30-minute gap
    visits = find_visits(inter, gap_minutes=30)
    # Then there are three visits, the session being the latest
    assert visits.n_visits == 3
    visit = visits.of_interaction
    assert visit[0] == visit[1] != visit[2]
    assert visit[3] == visit[4]
    assert visits.rank_from_last[visit[3]] == 0
    assert visits.rank_from_last[visit[2]] == 1
    assert visits.rank_from_last[visit[0]] == 2
    assert visits.per_user.tolist() == [3]


def test_the_last_visit_of_each_known_user_is_held_out(make_event: EventFactory) -> None:
    # Given alice with two sessions, bob with one visit of three events, and an anonymous visitor
    events = [
        make_event(product="a", days_ago=5, session="a1"),
        make_event(product="b", days_ago=2, session="a2"),
        make_event(product="c", days_ago=2, session="a2"),
        make_event(user="bob", product="a", days_ago=3.0, session="b1"),
        make_event(user="bob", product="b", days_ago=2.999, session="b1"),
        make_event(user="bob", product="c", days_ago=2.998, session="b1"),
        make_event(user=None, anon="x", product="a", days_ago=4, session="x1"),
        make_event(user=None, anon="x", product="b", days_ago=1, session="x2"),
    ]
    inter = _interactions(make_event, events)
    # When the holdout is taken (a fifth of a single visit, at least one event)
    held = last_visit_holdout(inter, gap_minutes=30, fraction=0.2)
    # Then alice's last session is held out, bob keeps all but his last event, the anonymous
    # visitor keeps everything (nobody is evaluated on anonymous visitors)
    assert held.tolist() == [False, True, True, False, False, True, False, False]


def test_a_mask_limits_the_holdout_to_its_part(make_event: EventFactory) -> None:
    # Given alice's three sessions, and a mask leaving the last one out (the test holdout)
    events = [make_event(product=p, days_ago=d, session=f"s{d}") for p, d in (("a", 9), ("b", 6), ("c", 3))]
    inter = _interactions(make_event, events)
    before_test = np.array([True, True, False])
    # When the validation holdout is carved from that part / Then it is the session before
    held = last_visit_holdout(inter, gap_minutes=30, fraction=0.2, mask=before_test)
    assert held.tolist() == [False, True, False]
