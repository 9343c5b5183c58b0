"""The repeat model: decayed basket shares, each shopper's repeat rate, what may be boosted."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recs.training.fit.repurchase import (
    RepeatRates,
    own_history,
    purchase_days,
    purchased_exclusions,
    repeat_rates,
    repurchase_profile,
)
from recs.training.fit.signals import repeat_boost
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import build_interactions
from recs.training.prepare.visits import find_visits
from tests.unit.training.conftest import EventFactory


def _weekly_baskets(make_event: EventFactory) -> list[dict[str, object]]:
    # alice: milk in all three weekly baskets, bread in the oldest only, eggs in the latest only
    return [
        make_event("purchase", product="milk", days_ago=21, session="w1"),
        make_event("purchase", product="bread", days_ago=21, session="w1"),
        make_event("purchase", product="milk", days_ago=14, session="w2"),
        make_event("purchase", product="milk", days_ago=7, session="w3"),
        make_event("purchase", product="eggs", days_ago=7, session="w3"),
    ]


def test_own_history_is_the_decayed_share_of_baskets_holding_a_product(make_event: EventFactory) -> None:
    # Given three weekly baskets
    inter = build_interactions(_weekly_baskets(make_event), start_ts=0, end_ts=4e9)
    visits = find_visits(inter, gap_minutes=30)
    # When scored with decay 0.5 (weights 1, 0.5, 0.25 from the latest basket back)
    own = own_history(inter, visits, decay=0.5).toarray()[0]
    item = {name: inter.items.index(name) for name in ("milk", "bread", "eggs")}
    total = 1 + 0.5 + 0.25
    # Then milk is in every basket, eggs in the latest, bread in the oldest
    assert own[item["milk"]] == pytest.approx(1.0)
    assert own[item["eggs"]] == pytest.approx(1 / total)
    assert own[item["bread"]] == pytest.approx(0.25 / total)
    # and without decay bread and eggs count the same (a third each)
    flat = own_history(inter, visits, decay=1.0).toarray()[0]
    assert flat[item["bread"]] == pytest.approx(flat[item["eggs"]]) == pytest.approx(1 / 3)


def test_repeat_rates_count_purchases_after_the_first_basket(make_event: EventFactory) -> None:
    # Given alice (three baskets: milk repeats twice of her 3 later purchases) and bob (one basket)
    events = [*_weekly_baskets(make_event), make_event("purchase", user="bob", product="milk", session="b1")]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    visits = find_visits(inter, gap_minutes=30)
    # When rates are computed without a prior
    rates = repeat_rates(inter, visits, prior=0.0)
    # Then alice repeats 2 of 3, the shop too (bob's only basket cannot repeat anything)
    alice, bob = inter.users.index("alice"), inter.users.index("bob")
    assert rates.shop == pytest.approx(2 / 3)
    assert rates.per_user[alice] == pytest.approx(2 / 3)
    # and with a prior bob, who has no evidence, gets the shop's rate
    assert repeat_rates(inter, visits, prior=10.0).per_user[bob] == pytest.approx(2 / 3)


def test_a_product_the_user_bought_on_two_days_is_never_excluded() -> None:
    # Given purchase days: user 0 bought item 0 on two days, item 1 once; no buy-again products
    days = sp.csr_matrix(np.array([[2.0, 1.0]], dtype=np.float32))
    profile = repurchase_profile(days, min_rate=0.5, min_buyers=3)
    assert not profile.buy_again.any()
    # When exclusions are derived / Then only the one-off purchase is excluded
    assert purchased_exclusions(days, profile).toarray().tolist() == [[0.0, 1.0]]


def test_the_boost_scales_with_each_shoppers_repeat_rate_and_skips_exclusions() -> None:
    # Given two users with the same own history, repeat rates 0.8 and 0.2 (shop 0.4)
    own = sp.csr_matrix(np.array([[0.5, 0.5], [0.5, 0.5]], dtype=np.float32))
    rates = RepeatRates(np.array([0.8, 0.2], dtype=np.float32), 0.4)
    exclude = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.float32))
    params = TrainingParameters(buy_again_weight=2.0, repeat_personal=1.0)
    # When boosted
    boost = repeat_boost(own, rates, exclude, params).toarray()
    # Then weight x (rate / shop) x own, and nothing on the excluded product
    assert boost[0].tolist() == pytest.approx([2.0 * 2.0 * 0.5, 0.0])
    assert boost[1].tolist() == pytest.approx([2.0 * 0.5 * 0.5, 2.0 * 0.5 * 0.5])
    # and without the personal exponent everyone gets the shop's weight; weight 0 turns it off
    flat = repeat_boost(own, rates, exclude, params.model_copy(update={"repeat_personal": 0.0}))
    assert flat.toarray()[1].tolist() == pytest.approx([1.0, 1.0])
    assert repeat_boost(own, rates, exclude, params.model_copy(update={"buy_again_weight": 0.0})).nnz == 0


def test_purchase_days_counts_days_not_lines(make_event: EventFactory) -> None:
    # Given two purchases of milk the same day and one a week later
    events = [
        make_event("purchase", product="milk", days_ago=7.2),
        make_event("purchase", product="milk", days_ago=7.1),
        make_event("purchase", product="milk", days_ago=0.2),
    ]
    inter = build_interactions(events, start_ts=0, end_ts=4e9)
    # When counted / Then two days (whatever the number of lines)
    assert purchase_days(inter).toarray().tolist() == [[2.0]]
