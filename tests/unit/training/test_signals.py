"""Event weights, time decay, and the buy-again signal with its exclusions."""

from __future__ import annotations

import numpy as np
import pytest

from recs.training.fit.repurchase import purchase_days, repurchase_profile
from recs.training.fit.signals import derive_signals
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import build_interactions
from recs.training.prepare.matrix import confidence_matrix
from tests.unit.training.conftest import NOW, EventFactory

END = NOW.timestamp()
START = END - 90 * 86_400


def test_confidence_sums_the_configured_weights(make_event: EventFactory) -> None:
    # Given a view, a click and a purchase of one product by one user
    events = [make_event(t, days_ago=0) for t in ("view", "click", "purchase")]
    inter = build_interactions(events, start_ts=START, end_ts=END + 1)
    # When the confidence matrix is built without decay
    matrix = confidence_matrix(inter, {"view": 1, "click": 2, "purchase": 5}, now_ts=END)
    # Then the cell holds 1 + 2 + 5
    assert matrix.toarray().tolist() == [[8.0]]
    assert matrix.dtype == np.float32


def test_an_event_loses_half_its_weight_per_half_life(make_event: EventFactory) -> None:
    # Given the same view today and 30 days ago, of two products
    events = [make_event(product="new", days_ago=0), make_event(product="old", days_ago=30)]
    inter = build_interactions(events, start_ts=START, end_ts=END + 1)
    # When decayed with a 30-day half-life
    matrix = confidence_matrix(inter, {"view": 1}, now_ts=END, half_life_days=30)
    # Then the old one weighs half
    weights = dict(zip(inter.items, matrix.toarray()[0].tolist(), strict=True))
    assert weights["new"] == pytest.approx(1.0)
    assert weights["old"] == pytest.approx(0.5)


def test_event_types_without_weight_leave_no_entry(make_event: EventFactory) -> None:
    # Given only views, weighted 0
    inter = build_interactions([make_event("view")], start_ts=START, end_ts=END)
    # When the matrix is built
    matrix = confidence_matrix(inter, {"view": 0, "purchase": 5}, now_ts=END)
    # Then it stores nothing
    assert matrix.nnz == 0


def _grocery_like(make_event: EventFactory) -> list[dict[str, object]]:
    """milk: three buyers, two of them on several days; kettle: three buyers, once each."""
    events = []
    for user, days in (("u1", (1, 8, 15)), ("u2", (2, 9)), ("u3", (3,))):
        events += [make_event("purchase", user=user, product="milk", days_ago=d) for d in days]
    for user in ("u1", "u2", "u3"):
        events.append(make_event("purchase", user=user, product="kettle", days_ago=20))
    return events


def test_products_bought_again_by_enough_buyers_are_buy_again_products(make_event: EventFactory) -> None:
    # Given milk (2 of 3 buyers repurchase) and a kettle (nobody does)
    inter = build_interactions(_grocery_like(make_event), start_ts=START, end_ts=END)
    # When products are profiled with a 50% threshold
    profile = repurchase_profile(purchase_days(inter), min_rate=0.5, min_buyers=3)
    labels = dict(zip(inter.items, profile.buy_again.tolist(), strict=True))
    rates = dict(zip(inter.items, profile.rate.tolist(), strict=True))
    # Then milk is a buy-again product and the kettle is not
    assert labels == {"milk": True, "kettle": False}
    assert rates["milk"] == pytest.approx(2 / 3)


def test_buy_again_products_are_boosted_and_one_off_purchases_excluded(make_event: EventFactory) -> None:
    # Given the grocery-like purchases
    inter = build_interactions(_grocery_like(make_event), start_ts=START, end_ts=END)
    params = TrainingParameters(buy_again_min_rate=0.5, buy_again_min_buyers=3)
    # When the signals are derived
    signals = derive_signals(inter, params, now_ts=END)
    milk, kettle = inter.items.index("milk"), inter.items.index("kettle")
    u1, u3 = inter.users.index("u1"), inter.users.index("u3")
    boost, exclude = signals.boost.toarray(), signals.exclude.toarray()
    # Then milk is boosted (more for the frequent buyer) and never excluded; the kettle is excluded
    assert boost[u1, milk] > boost[u3, milk] > 0
    assert boost[:, kettle].tolist() == [0.0, 0.0, 0.0]
    assert exclude[:, milk].tolist() == [0.0, 0.0, 0.0]
    assert exclude[:, kettle].tolist() == [1.0, 1.0, 1.0]


def test_purchases_stay_recommendable_when_configured(make_event: EventFactory) -> None:
    # Given the same purchases and exclude_purchased off
    inter = build_interactions(_grocery_like(make_event), start_ts=START, end_ts=END)
    # When the signals are derived
    signals = derive_signals(inter, TrainingParameters(exclude_purchased=False), now_ts=END)
    # Then nothing is excluded
    assert signals.exclude.nnz == 0
