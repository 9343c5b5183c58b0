"""Build a model version from a window of interactions: the code every entry point shares.

The workflow's steps (`recs.training.pipeline`) call these functions between loads and stores
of artifacts; the offline command (`recs.training.offline`) calls them one after the other in
memory. Either way a version is made by the same code:

1. `select_family`: the configured model family, or for ``auto`` the family that scores best on
   a validation split carved from the training part (never the test holdout);
2. `train_version`: signals of the full window, the fitted model, the item lists;
3. `user_lists`: every known user's top-K (blockwise, exclusions, buy-again, reasons);
4. `evaluate_version`: the holdout report and the quality gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.models.recommendations import Reason
from recs.storage import ALL_CATEGORIES
from recs.training import lists
from recs.training.fitting import Family, FittedModel, candidate_families, fit
from recs.training.holdout import GateDecision, HoldoutReport, evaluate_holdout, gate
from recs.training.interactions import Interactions
from recs.training.matrix import SECONDS_PER_DAY, interaction_weights
from recs.training.parameters import TrainingParameters
from recs.training.progress import TrainingProgress
from recs.training.ranking import RankedLists, rank
from recs.training.signals import Signals, derive_signals

Ranked = lists.Ranked


@dataclass(frozen=True)
class ItemLists:
    """Non-personalized lists, by item index / category (``ALL_CATEGORIES`` for the whole shop)."""

    similar: dict[int, Ranked]
    bought_together: dict[int, Ranked]
    popular: dict[str, Ranked]
    trending: dict[str, Ranked]

    def to_json(self, items: Sequence[str]) -> dict[str, Any]:
        """Product ids instead of indices: ``{"similar": {product: [[id, score], ...]}, ...}``."""

        def named(ranked: Ranked) -> list[list[Any]]:
            return [[items[i], round(score, 6)] for i, score in ranked]

        return {
            "similar": {items[i]: named(r) for i, r in self.similar.items()},
            "boughtTogether": {items[i]: named(r) for i, r in self.bought_together.items()},
            "popular": {c: named(r) for c, r in self.popular.items()},
            "trending": {c: named(r) for c, r in self.trending.items()},
        }


def list_reason(kind: str, key: str) -> Reason:
    """The contract's reason for an item of a non-personalized list."""
    if kind == "similar":
        return Reason.SIMILAR_ITEMS
    if kind == "boughtTogether":
        return Reason.BOUGHT_TOGETHER
    if kind == "trending":
        return Reason.TRENDING
    return Reason.POPULAR if key == ALL_CATEGORIES else Reason.CATEGORY_POPULAR


@dataclass(frozen=True)
class TrainedVersion:
    family: Family
    model: FittedModel
    signals: Signals
    item_lists: ItemLists
    selection: dict[str, Any] | None


def select_family(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
) -> tuple[Family, dict[str, Any] | None]:
    """The family to train; with several candidates, the best on a validation split.

    Validation: the last ``holdout_days`` of the training part, which itself ends where the
    test holdout starts, so the test days never influence the choice.
    """
    families = candidate_families(params, interactions.n_items)
    if len(families) == 1:
        return families[0], None
    test_cutoff = end_ts - params.holdout_days * SECONDS_PER_DAY
    before_test = interactions.subset(interactions.timestamp < test_cutoff)
    report = evaluate_holdout(before_test, unavailable, params, end_ts=test_cutoff, families=families)
    return report.best_family(), {"validation": report.as_dict(), "candidates": list(families)}


def train_version(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    categories: Sequence[str | None],
    params: TrainingParameters,
    *,
    end_ts: float,
    family: Family | None = None,
    progress: TrainingProgress | None = None,
) -> TrainedVersion:
    """Fit the model on the whole window and derive every list a version publishes."""
    progress = progress or TrainingProgress()
    selection: dict[str, Any] | None = None
    if family is None:
        if len(candidate_families(params, interactions.n_items)) > 1:
            progress.stage("choosing the model family on a validation split")
        family, selection = select_family(interactions, unavailable, params, end_ts=end_ts)
    signals = derive_signals(interactions, params, now_ts=end_ts)
    progress.stage(f"fitting {family} on the whole window")
    model = fit(family, signals.confidence, params, on_sweep=progress.sweep)
    progress.stage("deriving similar, bought-together, popular and trending lists")
    available = ~unavailable
    neighbours = model.model.similar_items(
        np.arange(interactions.n_items), n=min(2 * params.similar_k, max(interactions.n_items - 1, 1))
    )
    popular_scores = lists.popularity(signals.confidence)
    weights = interaction_weights(interactions, params.event_weights, now_ts=end_ts, half_life_days=0.0)
    trend = lists.trending(interactions, weights, end_ts, params.trending_days)
    popular = {ALL_CATEGORIES: lists.top_indices(popular_scores, params.list_k, available)}
    popular.update(lists.per_category(popular_scores, categories, params.list_k, available))
    trending = {ALL_CATEGORIES: lists.top_indices(trend, params.list_k, available)}
    trending.update(lists.per_category(trend, categories, params.list_k, available))
    item_lists = ItemLists(
        similar=lists.similar_items(signals.confidence, neighbours, params.similar_k, available),
        bought_together=lists.bought_together(interactions, params.similar_k, available),
        popular={key: ranked for key, ranked in popular.items() if ranked},
        trending={key: ranked for key, ranked in trending.items() if ranked},
    )
    return TrainedVersion(family, model, signals, item_lists, selection)


def user_lists(
    trained: TrainedVersion,
    users: npt.NDArray[np.int64],
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    num_threads: int = 1,
) -> RankedLists:
    """Top-``top_k`` of ``users`` (rows of the training matrix), as published."""
    signals = trained.signals
    return rank(
        trained.model.scorer(users, signals.confidence[users]),
        params.top_k,
        exclude=signals.exclude[users],
        unavailable=unavailable,
        boost=signals.boost[users],
        boost_weight=params.buy_again_weight,
        num_threads=num_threads,
    )


@dataclass(frozen=True)
class Evaluation:
    report: HoldoutReport
    decision: GateDecision
    family: Family

    @property
    def model_metrics(self) -> dict[str, Any] | None:
        return self.report.families.get(self.family)

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "model": self.model_metrics,
            "popularity": self.report.popularity,
            "boughtMost": self.report.bought_most,
            "liftOverPopularity": self.decision.lift,
            "gate": {"passed": self.decision.passed, "reason": self.decision.reason},
            "holdout": self.report.as_dict(),
        }


def evaluate_version(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    family: Family,
    current_lift: float | None,
) -> Evaluation:
    """Holdout metrics of ``family`` against popularity, and the gate's decision."""
    report = evaluate_holdout(interactions, unavailable, params, end_ts=end_ts, families=[family])
    decision = gate(report.families.get(family), report.popularity, params, current_lift)
    return Evaluation(report, decision, family)
