"""Trending: visitors, not events, against the product's longer-run rate under a prior scaled to the
shop (hand-made shops with a known answer)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from recs.training.fit import lists
from recs.training.prepare.interactions import PURCHASE_CODE, Interactions, build_interactions
from tests.unit.training.conftest import NOW, EventFactory

END = NOW.timestamp()
DAYS = 7.0
HISTORY_DAYS = 30


def _interactions(events: list[dict[str, Any]]) -> Interactions:
    return build_interactions(events, start_ts=END - 90 * 86_400, end_ts=END + 1)


def _scores(interactions: Interactions) -> dict[str, float]:
    weights = np.full(len(interactions), 1.0, dtype=np.float32)
    scores = lists.trending(interactions, weights, END, DAYS)
    return dict(zip(interactions.items, scores.tolist(), strict=True))


def _steady_shop(make_event: EventFactory, visitors_a_day: int, products: int = 12) -> list[dict[str, Any]]:
    """``products`` products, each viewed by ``visitors_a_day`` new visitors every day for 30 days."""
    return [
        make_event("view", user=f"s{p}-{day}-{v}", product=f"steady{p}", days_ago=day + 0.5)
        for p in range(products)
        for day in range(HISTORY_DAYS)
        for v in range(visitors_a_day)
    ]


def _fake_buyers(make_event: EventFactory, count: int, product: str = "pushed") -> list[dict[str, Any]]:
    """``count`` fake visitors, each buying ``product`` five times today."""
    return [
        make_event("purchase", user=f"fake{n}", product=product, days_ago=0.1)
        for n in range(count)
        for _ in range(5)
    ]


def _fewest_fakes_for_the_top_10(make_event: EventFactory, visitors_a_day: int) -> int:
    shop = _steady_shop(make_event, visitors_a_day)
    for count in range(1, 1000):
        interactions = _interactions([*shop, *_fake_buyers(make_event, count)])
        weights = np.full(len(interactions), 5.0, dtype=np.float32)  # every event a purchase's weight
        ranked = lists.top_indices(lists.trending(interactions, weights, END, DAYS), 10)
        if interactions.items.index("pushed") in {item for item, _ in ranked}:
            return count
    raise AssertionError("the product never entered the top 10")


def test_the_score_is_recent_visitors_times_their_smoothed_rise(make_event: EventFactory) -> None:
    # Given a product seen by 2 visitors on each of the last 30 days and one seen by 6 visitors today
    events = [
        make_event("view", user=f"u{day}-{v}", product="old", days_ago=day + 0.5)
        for day in range(HISTORY_DAYS)
        for v in range(2)
    ]
    events += [make_event("purchase", user=f"n{v}", product="new", days_ago=0.2) for v in range(6)]
    interactions = _interactions(events)
    # When trending is computed over the last 7 days
    scores = _scores(interactions)
    # Then each is r (r + b) / (e + b): r its visitor-days of the last 7 days, e its rate over the
    # window (30 days) times 7, b a fifth of the median recent visitors of the (here two) products
    span = (END - float(interactions.timestamp.min())) / 86_400
    prior = max(lists.TRENDING_PRIOR_SHARE * float(np.median([14.0, 6.0])), 1.0)
    old_expected = 60 * DAYS / span
    new_expected = 6 * DAYS / span
    assert scores["old"] == pytest.approx(14 * (14 + prior) / (old_expected + prior))
    assert scores["new"] == pytest.approx(6 * (6 + prior) / (new_expected + prior))


def test_a_visitor_counts_once_a_day_whatever_they_send(make_event: EventFactory) -> None:
    # Given three visitors who each viewed "viewed" once today, and two who each bought "bought"
    # twenty times today (the heaviest event, over and over)
    events = [make_event("view", user=f"v{n}", product="viewed", days_ago=0.1) for n in range(3)]
    events += [
        make_event("purchase", user=f"b{n}", product="bought", days_ago=0.1)
        for n in range(2)
        for _ in range(20)
    ]
    events += [make_event("view", user="w", product="other", days_ago=20)]
    interactions = _interactions(events)
    weights = np.where(interactions.event == PURCHASE_CODE, 5.0, 1.0).astype(np.float32)
    # When trending is computed with the event weights training uses
    scores = dict(
        zip(interactions.items, lists.trending(interactions, weights, END, DAYS).tolist(), strict=True)
    )
    # Then the product of three visitors trends above the product of two, however much they sent
    assert scores["viewed"] > scores["bought"] > 0


def test_one_visitor_repeating_events_cannot_make_a_product_trend(make_event: EventFactory) -> None:
    # Given three shoppers who each bought "real" today, and one visitor who bought "pushed"
    # forty times today
    events = [make_event("purchase", user=u, product="real", days_ago=0.1) for u in ("a", "b", "c")]
    events += [make_event("purchase", user="bot", product="pushed", days_ago=0.1) for _ in range(40)]
    events += [make_event("view", user="d", product="old", days_ago=20)]
    # When trending is computed / Then the product three visitors bought is above the one visitor's
    scores = _scores(_interactions(events))
    assert scores["real"] > scores["pushed"]


def test_events_of_zero_weight_do_not_count(make_event: EventFactory) -> None:
    # Given two visitors who viewed a product today
    interactions = _interactions(
        [make_event("view", user=f"v{n}", product="p", days_ago=0.1) for n in range(2)]
    )
    # When views weigh nothing / Then the product does not trend
    scores = lists.trending(interactions, np.zeros(len(interactions), dtype=np.float32), END, DAYS)
    assert scores.tolist() == [0.0]


def test_fake_visitors_needed_grow_with_the_shops_traffic(make_event: EventFactory) -> None:
    # Given two shops of twelve steady products, one with ten times the other's visitors, and a
    # product nobody saw before that fake visitors buy today
    # When the fewest fake visitors that put it in the trending top 10 are found in each
    small = _fewest_fakes_for_the_top_10(make_event, visitors_a_day=2)
    large = _fewest_fakes_for_the_top_10(make_event, visitors_a_day=20)
    # Then the larger shop needs (nearly) ten times as many: the prior grows with the traffic of
    # the shop's top products, not a constant a handful of visitors outweigh
    assert large >= 8 * small
    # and in the large shop they number more than a third of a top product's weekly visitors (140)
    assert large > 140 / 3


def test_a_rising_product_trends_above_a_steady_one_with_as_many_recent_visitors(
    make_event: EventFactory,
) -> None:
    # Given a steady product (4 visitors a day for 30 days) and one that had 1 a day and now has 4
    events = [
        make_event("view", user=f"s{day}-{v}", product="steady", days_ago=day + 0.5)
        for day in range(HISTORY_DAYS)
        for v in range(4)
    ]
    events += [
        make_event("view", user=f"r{day}-{v}", product="rising", days_ago=day + 0.5)
        for day in range(HISTORY_DAYS)
        for v in range(4 if day < DAYS else 1)
    ]
    # When trending is computed / Then the riser is above the steady product
    scores = _scores(_interactions(events))
    assert scores["rising"] > scores["steady"]


def test_the_prior_is_a_share_of_the_typical_top_products_recent_visitors() -> None:
    # Given recent visitor-days of 20 products, the top 10 being 10..100
    recent: npt.NDArray[np.float64] = np.array([*range(10, 101, 10), *[1.0] * 10], dtype=np.float64)
    # When the prior is taken / Then it is the share of their median (55), and at least one visitor
    assert lists.trending_prior(recent, 0.2) == pytest.approx(0.2 * 55)
    assert lists.trending_prior(np.zeros(5), 0.2) == 1.0
    assert lists.trending_prior(np.zeros(0), 0.2) == 1.0


def test_a_visitor_day_keeps_its_latest_time_and_what_a_sampled_event_stands_for(
    make_event: EventFactory,
) -> None:
    # Given one visitor's two views of a product on one day and one on the next, and another
    # visitor's view kept by a sampling rule of one in four
    events = [make_event("view", user="a", product="p", days_ago=d) for d in (2.5, 2.4, 1.5)]
    events.append(make_event("view", user="b", product="p", days_ago=0.5, sampleRate=4))
    interactions = _interactions(events)
    # When counted in visitor-days
    items, visitors, latest = lists.visitor_days(interactions, np.ones(len(interactions), dtype=np.bool_))
    # Then each day of each visitor is one entry stamped with its latest event, and the sampled
    # view stands for the four visitors it represents
    assert set(items.tolist()) == {0}
    assert sorted(visitors.tolist()) == [1.0, 1.0, 4.0]
    assert sorted(latest.tolist()) == pytest.approx(
        sorted([END - 2.4 * 86_400, END - 1.5 * 86_400, END - 0.5 * 86_400])
    )
