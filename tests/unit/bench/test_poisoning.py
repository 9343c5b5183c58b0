"""The poisoning benchmark's aged attacker is the one it names: each fake visitor is first seen
a day before the attack, through one event that pairs the target with nothing, and the results
report it next to the fresh fakes, never instead of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

import bench.poisoning as poisoning
from bench.poisoning import AGED_BY, Warmup, _fake_visits, _fakes, _iso
from recs.training.fit import lists
from recs.training.prepare.interactions import build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY

ATTACK = datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
END_TS = ATTACK.timestamp() + 1
START_TS = END_TS - 30 * SECONDS_PER_DAY


def _first_and_last(events: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    inter = build_interactions(events, start_ts=START_TS, end_ts=END_TS)
    first = np.full(inter.n_users, np.inf)
    last = np.full(inter.n_users, -np.inf)
    np.minimum.at(first, inter.user, inter.timestamp)
    np.maximum.at(last, inter.user, inter.timestamp)
    return (
        dict(zip(inter.users, first.tolist(), strict=True)),
        dict(zip(inter.users, last.tolist(), strict=True)),
    )


def test_aged_fake_visitors_are_first_seen_over_a_day_before_the_attack_on_an_earlier_day() -> None:
    # Given three fake buyers aged by one earlier view of another product
    warmup = Warmup("anchor", _iso(ATTACK - AGED_BY))
    events = _fakes(3, 4, "target", _iso(ATTACK), warmup)
    # When training reads them
    first, last = _first_and_last(events)
    # Then each is first seen more than 24 h before the attack, on an earlier UTC day
    assert sorted(first) == ["fake-0", "fake-1", "fake-2"]
    for visitor in first:
        assert last[visitor] - first[visitor] > 24 * 3600
        assert first[visitor] // SECONDS_PER_DAY < last[visitor] // SECONDS_PER_DAY
    # And the earlier event is one view of the other product per visitor, the rest the attack
    assert [e["productId"] for e in events].count("anchor") == 3
    assert [e["productId"] for e in events].count("target") == 12


def test_fresh_fake_visitors_are_first_seen_in_the_attack() -> None:
    # Given fake buyers without an earlier event
    events = _fakes(2, 3, "target", _iso(ATTACK))
    # When training reads them
    first, last = _first_and_last(events)
    # Then each is first seen at the attack itself
    assert all(first[visitor] == last[visitor] == ATTACK.timestamp() for visitor in first)


def test_the_earlier_view_pairs_the_target_with_nothing() -> None:
    # Given three aged fake visitors opening two sessions each that view the anchor, then the target
    warmup = Warmup("anchor", _iso(ATTACK - AGED_BY))
    events = _fake_visits(3, 4, "anchor", "target", _iso(ATTACK), False, warmup)
    inter = build_interactions(events, start_ts=START_TS, end_ts=END_TS)
    anchor, target = inter.items.index("anchor"), inter.items.index("target")
    # When co-visits are counted as the similar-items lists count them
    co, _ = lists.session_cooccurrence(inter)
    # Then the pair has one co-visit per fake visitor (their day's sessions share one weight),
    # and the earlier view, outside any session, added no other pair
    assert co[anchor, target] == pytest.approx(3.0)
    assert co.nnz == 2


def _measured(after: int, aged: int) -> dict[str, Any]:
    return {
        "product": "sku_1",
        "productVisitors": 1,
        "anchor": "sku_2",
        "anchorVisitors": 300,
        "before": {"popular": 100, "trending": 1, "similar": 1},
        "after": {"popular": 100, "trending": after, "similar": after},
        "afterAged": {"trending": aged, "similar": aged},
        "agedBeforeAttackHours": 25.0,
        "trendingCappedWeights": 10,
        "tenthNeighbourCoVisits": 20.0,
    }


def test_each_list_reports_the_aged_attacker_next_to_the_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a shop where fresh fakes need 60 visitors and fakes aged a day ahead need 20
    monkeypatch.setattr(poisoning, "measure", lambda preset: _measured(after=60, aged=20))
    # When the benchmark reports it
    figures = poisoning.run(quick=True)["figures"]
    # Then trending and similar items each have a fresh row that meets the goal and an aged row
    # right after it that does not; popular has no aged row
    names = [f["name"] for f in figures]
    assert len(figures) == 5
    for where in ("the trending top 10", "the top 10 beside the most viewed product (one shopper's list)"):
        fresh = names.index(f"demo: fake visitors to push a product into {where}")
        aged = figures[fresh + 1]
        assert aged["name"] == f"demo: fake visitors aged by one earlier event to push a product into {where}"
        assert (figures[fresh]["value"], figures[fresh]["met"]) == (60.0, True)
        assert (aged["value"], aged["met"]) == (20.0, False)
        assert "viewed sku_2 once 25 h before" in aged["note"]
    assert not any("aged" in name and "popular" in name for name in names)
