"""A version built from a synthetic shop with a known answer: better than the baselines, and
model selection and tuning never look at the test holdout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from recs.synthetic import build_config, generate_shop
from recs.training import build as build_module
from recs.training import holdout
from recs.training import tune as tune_module
from recs.training.build import evaluate_version, select_family, train_version, user_lists
from recs.training.catalog import Catalog
from recs.training.holdout import HoldoutReport
from recs.training.interactions import Interactions, build_interactions
from recs.training.matrix import SECONDS_PER_DAY
from recs.training.parameters import TrainingParameters
from recs.training.tune import candidates, tune

PARAMS = TrainingParameters(als_threads=1)


def _shop(preset: str, **overrides: Any) -> tuple[Interactions, np.ndarray, float]:
    shop = generate_shop(build_config(preset, seed=11, **overrides))
    end = shop.config.now.timestamp()
    inter = build_interactions(shop.events, start_ts=end - 365 * SECONDS_PER_DAY, end_ts=end)
    catalog = Catalog.from_jsonl(
        [
            f'{{"id": "{p.id}", "category": "{p.category}", "available": {str(p.available).lower()}}}'
            for p in shop.products
        ]
    )
    return inter, catalog.unavailable_mask(inter.items), end


def test_on_the_synthetic_shop_the_model_doubles_popularity() -> None:
    # Given the demo shop
    inter, unavailable, end = _shop("demo")
    # When ALS is evaluated on the last days
    evaluation = evaluate_version(inter, unavailable, PARAMS, end_ts=end, family="als", current_lift=None)
    # Then its NDCG@10 is at least twice popularity's and the gate passes
    model, popular = evaluation.model_metrics, evaluation.report.popularity
    assert model is not None
    assert popular is not None
    assert model["ndcg"] >= 2 * popular["ndcg"]
    assert evaluation.decision.passed


def test_on_repurchase_heavy_data_lists_match_what_users_bought_most() -> None:
    # Given the grocery shop (staples bought week after week)
    inter, unavailable, end = _shop("grocery")
    # When evaluated with the buy-again signal
    evaluation = evaluate_version(inter, unavailable, PARAMS, end_ts=end, family="als", current_lift=None)
    report = evaluation.report
    # Then the lists do at least as well as "the products this user bought most", on every
    # held-out interaction and on held-out purchases alone
    assert report.families["als"] is not None
    assert report.bought_most is not None
    assert report.families["als"]["ndcg"] >= report.bought_most["ndcg"]
    assert report.purchases["als"] is not None
    assert report.purchases["boughtMost"] is not None
    assert report.purchases["als"]["ndcg"] >= report.purchases["boughtMost"]["ndcg"]


def test_published_lists_never_hold_unavailable_or_one_off_purchases() -> None:
    # Given the test shop, trained on the whole window
    inter, unavailable, end = _shop("test")
    trained = train_version(inter, unavailable, inter.item_category, PARAMS, end_ts=end, family="als")
    users = np.flatnonzero(inter.is_user).astype(np.int64)
    # When every known user's list is ranked
    lists = user_lists(trained, users, unavailable, PARAMS)
    # Then no list holds an unavailable product or a purchased product that is not bought again
    exclude = trained.signals.exclude[users].toarray() > 0
    for row in range(users.size):
        ids = [i for i, _, _ in lists.items_of(row)]
        assert ids, "every known user gets a list"
        assert not unavailable[ids].any()
        assert not exclude[row, ids].any()
    for ranked in trained.item_lists.similar.values():
        assert not unavailable[[i for i, _ in ranked]].any()


def test_family_selection_never_sees_the_test_holdout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the test shop and a spy on the holdout evaluation
    inter, unavailable, end = _shop("test")
    seen: list[float] = []
    real = holdout.evaluate_holdout

    def spy(part: Interactions, *args: Any, **kwargs: Any) -> HoldoutReport:
        seen.append(float(part.timestamp.max()))
        return real(part, *args, **kwargs)

    monkeypatch.setattr(build_module, "evaluate_holdout", spy)
    params = TrainingParameters(model_family="auto", als_threads=1)
    # When the family is chosen
    family, selection = select_family(inter, unavailable, params, end_ts=end)
    # Then it was chosen on data that ends before the test holdout starts
    test_cutoff = end - params.holdout_days * SECONDS_PER_DAY
    assert seen
    assert max(seen) < test_cutoff
    assert family in ("als", "ease")
    assert selection is not None
    assert set(selection["candidates"]) == {"als", "ease"}


def test_tuning_is_seeded_and_scores_on_validation_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the test shop and a spy on what tuning evaluates
    inter, unavailable, end = _shop("test")
    seen: list[float] = []
    real = holdout.evaluate_holdout

    def spy(part: Interactions, *args: Any, **kwargs: Any) -> HoldoutReport:
        seen.append(float(part.timestamp.max()))
        return real(part, *args, **kwargs)

    monkeypatch.setattr(tune_module, "evaluate_holdout", spy)
    # When tuned with 3 random trials
    result = tune(inter, unavailable, PARAMS, end_ts=end, trials=3)
    # Then every trial stayed before the test holdout, the best is the top trial, and the
    # candidates are the same for the same seed
    assert max(seen) < end - PARAMS.holdout_days * SECONDS_PER_DAY
    assert result.best_score == max(t["ndcg"] for t in result.trials if t["metrics"])
    first = candidates(PARAMS, inter.n_items, 3, seed=5)
    again = candidates(PARAMS, inter.n_items, 3, seed=5)
    assert [c.recorded() for c in first] == [c.recorded() for c in again]
    assert {c.model_family for c in first} == {"als", "ease"}
