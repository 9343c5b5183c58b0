"""The recency profile: a shopper's products weighted by how recently they touched them."""

from __future__ import annotations

import pytest

from recs.training.fit.signals import recency_profile
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import build_interactions
from recs.training.prepare.matrix import confidence_matrix
from tests.unit.training.conftest import EventFactory


def test_weights_halve_every_half_life_of_the_users_own_history(make_event: EventFactory) -> None:
    # Given alice touched four products, one a day, "d" last
    events = [make_event(product=p, days_ago=days) for p, days in (("a", 4), ("b", 3), ("c", 2), ("d", 1))]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    confidence = confidence_matrix(inter, TrainingParameters().event_weights, now_ts=4e9)
    # When weighted with a half-life of half her history (positions 0, 1/4, 2/4, 3/4)
    profile = recency_profile(inter, confidence, 0.5).toarray()[0]
    weight = {p: profile[inter.items.index(p)] for p in "abcd"}
    # Then the latest counts 1 and each step back 2 ** -0.5 less
    assert weight["d"] == pytest.approx(1.0)
    assert weight["c"] == pytest.approx(2**-0.5)
    assert weight["a"] == pytest.approx(2**-1.5)
    # and half-life 0 weighs every product 1 (recency off)
    assert recency_profile(inter, confidence, 0.0).toarray().tolist() == [[1.0, 1.0, 1.0, 1.0]]


def test_recency_is_measured_in_each_users_own_history(make_event: EventFactory) -> None:
    # Given bob's two products a year ago and alice's two yesterday, in the same order
    events = [
        make_event(user="bob", product="a", days_ago=366),
        make_event(user="bob", product="b", days_ago=365),
        make_event(user="alice", product="a", days_ago=2),
        make_event(user="alice", product="b", days_ago=1),
    ]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    confidence = confidence_matrix(inter, TrainingParameters().event_weights, now_ts=4e9)
    # When weighted / Then both get the same weights: how long ago in days does not matter
    profile = recency_profile(inter, confidence, 0.25).toarray()
    assert profile[0].tolist() == pytest.approx(profile[1].tolist())
