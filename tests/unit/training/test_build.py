"""A version built from a synthetic shop with a known answer: better than the baselines on each
shopper's last visit, with lists that respect the exclusions, and a gate even for a new shop."""

from __future__ import annotations

from typing import Any

import numpy as np

from recs.training.build import (
    choose_parameters,
    evaluate_version,
    family_of,
    train_version,
    user_lists,
)
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs_tools.synthetic import build_config, generate_shop

PARAMS = TrainingParameters(als_threads=1, tuning_max_fits=6)


def _shop(preset: str, **overrides: Any) -> tuple[Interactions, np.ndarray, float]:
    shop = generate_shop(build_config(preset, seed=11, **overrides))
    end = shop.config.now.timestamp()
    inter = build_interactions(shop.events, start_ts=end - 400 * SECONDS_PER_DAY, end_ts=end)
    catalog = Catalog.from_jsonl(
        [
            f'{{"id": "{p.id}", "category": "{p.category}", "available": {str(p.available).lower()}}}'
            for p in shop.products
        ]
    )
    return inter, catalog.unavailable_mask(inter.items), end


def _chosen_and_evaluated(preset: str) -> tuple[TrainingParameters, Any]:
    inter, unavailable, end = _shop(preset)
    chosen, _ = choose_parameters(inter, unavailable, PARAMS, end_ts=end)
    family = family_of(chosen)
    return chosen, evaluate_version(inter, unavailable, chosen, end_ts=end, family=family, current_lift=None)


def test_on_the_synthetic_shop_the_model_doubles_popularity() -> None:
    # Given the demo shop and the parameters its own search chose on validation
    _, evaluation = _chosen_and_evaluated("demo")
    # Then on each shopper's last visit its NDCG@10 is at least twice popularity's, the interval
    # of the difference excludes zero, and the gate passes
    model, popular = evaluation.model_metrics, evaluation.report.popularity
    assert model is not None
    assert popular is not None
    assert model["ndcg"] >= 2 * popular["ndcg"]
    difference = evaluation.report.differences[f"{evaluation.family} - popularity"]
    assert difference["low"] > 0
    assert evaluation.decision.passed


def test_on_repurchase_heavy_data_lists_beat_what_users_bought_most() -> None:
    # Given the grocery shop (staples bought week after week) and the search's choice
    chosen, evaluation = _chosen_and_evaluated("grocery")
    report = evaluation.report
    family = evaluation.family
    # Then the repeat model is on, and the lists do at least as well as "bought most, then
    # popular" on every held-out interaction and on held-out purchases alone
    assert chosen.buy_again_weight > 0
    assert report.families[family] is not None
    assert report.bought_most is not None
    assert report.families[family]["ndcg"] >= report.bought_most["ndcg"]
    assert report.purchases[family] is not None
    assert report.purchases["boughtMost"] is not None
    assert report.purchases[family]["ndcg"] >= report.purchases["boughtMost"]["ndcg"]


def test_published_lists_never_hold_unavailable_or_one_off_purchases() -> None:
    # Given the test shop, trained on the whole window
    inter, unavailable, end = _shop("test")
    trained = train_version(inter, unavailable, inter.item_category, PARAMS, end_ts=end)
    users = np.flatnonzero(inter.is_user).astype(np.int64)
    # When every known user's list is ranked
    lists = user_lists(trained, users, unavailable)
    # Then no list holds an unavailable product or a one-off purchase
    exclude = trained.signals.exclude[users].toarray() > 0
    for row in range(users.size):
        ids = [i for i, _, _ in lists.items_of(row)]
        assert ids, "every known user gets a list"
        assert not unavailable[ids].any()
        assert not exclude[row, ids].any()
    for ranked in trained.item_lists.similar.values():
        assert not unavailable[[i for i, _ in ranked]].any()


def test_every_user_with_history_in_a_year_gets_a_personal_list() -> None:
    # Given a shop whose shoppers came over a whole year (many last seen months ago)
    inter, unavailable, end = _shop("test", days=365)
    trained = train_version(inter, unavailable, inter.item_category, PARAMS, end_ts=end)
    users = np.flatnonzero(inter.is_user).astype(np.int64)
    # When every known user is ranked / Then each has a list: nobody falls off a window's edge
    lists = user_lists(trained, users, unavailable)
    assert all(lists.items_of(row) for row in range(users.size))
    old = [u for u in users if inter.timestamp[inter.user == u].max() < end - 180 * SECONDS_PER_DAY]
    assert old, "the shop has users last seen more than half a year ago"


def test_a_shop_one_week_old_still_gets_an_evaluated_gate() -> None:
    # Given a shop with seven days of events
    inter, unavailable, end = _shop("test", days=7)
    chosen, _ = choose_parameters(inter, unavailable, PARAMS, end_ts=end)
    # When its version is evaluated
    evaluation = evaluate_version(
        inter, unavailable, chosen, end_ts=end, family=family_of(chosen), current_lift=None
    )
    # Then users were evaluated (each one's last visit) and the gate decided on them
    assert evaluation.report.evaluated_users >= 30
    assert evaluation.model_metrics is not None
    assert "no user could be evaluated" not in evaluation.decision.reason
