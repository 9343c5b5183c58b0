"""Build a model version from a window of interactions: the code every entry point shares.

The workflow's steps (`recs.training.pipeline`) call these functions between loads and stores
of artifacts; the offline command (`recs_tools.training.offline`) calls them one after the other in
memory. Either way a version is made by the same code:

1. `choose_parameters`: the family, its key hyperparameters and the buy-again mix, searched on
   a validation split carved from the training part (never the test holdout;
   `recs.training.evaluate.search`), or the configured ones;
2. `train_version`: signals of the full window, the fitted model, the item lists;
3. `user_lists`: every known user's top-K (blockwise, exclusions, the repeat model, reasons);
4. `evaluate_version`: the holdout report and the quality gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.store_layout import ALL_CATEGORIES
from recs.training.deadline import Deadline
from recs.training.evaluate.holdout import GateDecision, HoldoutReport, evaluate_holdout, gate
from recs.training.evaluate.search import search
from recs.training.fit import lists
from recs.training.fit.fitting import Family, FittedModel, candidate_families, fit
from recs.training.fit.ranking import RankedLists, rank
from recs.training.fit.session_lists import choose_session_lists
from recs.training.fit.signals import Signals, derive_signals
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions
from recs.training.prepare.weights import interaction_weights
from recs.training.progress import TrainingProgress

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


@dataclass(frozen=True)
class TrainedVersion:
    family: Family
    model: FittedModel
    signals: Signals
    item_lists: ItemLists
    selection: dict[str, Any] | None
    params: TrainingParameters


def family_of(params: TrainingParameters) -> Family:
    """The concrete family of chosen parameters (``auto`` never reaches training)."""
    family = params.model_family
    return "als" if family == "auto" else family


def choose_parameters(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    start: dict[str, Any] | None = None,
    progress: TrainingProgress | None = None,
    deadline: Deadline | None = None,
) -> tuple[TrainingParameters, dict[str, Any] | None]:
    """The parameters to train with, and the record of how they were chosen.

    With ``auto_tune`` the search (`recs.training.evaluate.search`) picks the family, its key
    hyperparameters and the buy-again mix on validation, starting from ``start`` (the previous
    version's choice) or ``params``; without it, only the family is chosen, and only when
    ``model_family`` is ``auto`` and EASE is eligible. A window where no user can be evaluated
    on validation (a shop's first days) keeps ``params`` as they are and says so. ``deadline``:
    when the step must be done (the search leaves time for the rest of it).
    """
    families = candidate_families(params, interactions.n_items, int(interactions.is_user.sum()))
    if not params.auto_tune and len(families) == 1:
        return params.model_copy(update={"model_family": families[0]}), None
    progress = progress or TrainingProgress()
    what = "the family, its hyperparameters and the buy-again mix" if params.auto_tune else "the family"
    progress.stage(f"searching {what} on a validation split")
    try:
        result = search(
            interactions,
            unavailable,
            params,
            end_ts=end_ts,
            start=start if params.auto_tune else None,
            explore=params.auto_tune,
            progress=progress.trial,
            deadline=deadline,
        )
    except ValueError as error:
        return params.model_copy(update={"model_family": families[0]}), {"skipped": str(error)}
    record = result.as_dict()
    chosen = result.best
    if params.auto_tune:
        progress.stage("choosing the similar-items lists on validation visits (the session path)")
        lists_choice = choose_session_lists(interactions, unavailable, chosen)
        chosen = chosen.model_copy(update=lists_choice.as_parameters())
        record["sessionLists"] = lists_choice.record
    return chosen, record


def train_version(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    categories: Sequence[str | None],
    params: TrainingParameters,
    *,
    end_ts: float,
    chosen: TrainingParameters | None = None,
    start: dict[str, Any] | None = None,
    progress: TrainingProgress | None = None,
    fitted: FittedModel | None = None,
    deadline: Deadline | None = None,
) -> TrainedVersion:
    """Fit the model on the whole window and derive every list a version publishes.

    ``chosen`` skips the search (parameters already chosen); otherwise `choose_parameters` runs.
    ``fitted`` is a model fitted elsewhere on this window's confidence (the Spark engine), used
    instead of fitting one here. ``deadline``: when the step must be done (`choose_parameters`).
    """
    progress = progress or TrainingProgress()
    selection: dict[str, Any] | None = None
    if chosen is None:
        chosen, selection = choose_parameters(
            interactions,
            unavailable,
            params,
            end_ts=end_ts,
            start=start,
            progress=progress,
            deadline=deadline,
        )
    params = chosen
    family = family_of(params)
    signals = derive_signals(interactions, params, now_ts=end_ts)
    if fitted is None:
        progress.stage(f"fitting {family} on the whole window")
        model = fit(family, signals.confidence, params, on_sweep=progress.sweep)
    else:
        model = fitted
    progress.stage("deriving similar, bought-together, popular and trending lists")
    available = ~unavailable
    neighbours = model.model.similar_items(
        np.arange(interactions.n_items), n=min(2 * params.similar_k, max(interactions.n_items - 1, 1))
    )
    popular_scores = lists.popularity(signals.confidence)
    weights = interaction_weights(interactions, params.event_weights, now_ts=end_ts, half_life_days=0.0)
    # Counted in visitors, against a prior scaled to the shop's traffic (poisoning resistance).
    trend = lists.trending(interactions, weights, end_ts, params.trending_days)
    popular = {ALL_CATEGORIES: lists.top_indices(popular_scores, params.list_k, available)}
    popular.update(lists.per_category(popular_scores, categories, params.list_k, available))
    trending = {ALL_CATEGORIES: lists.top_indices(trend, params.list_k, available)}
    trending.update(lists.per_category(trend, categories, params.list_k, available))
    item_lists = ItemLists(
        # Blended with session co-occurrence as this shop's validation visits chose
        # (recs.training.fit.session_lists): what a visitor looks at next.
        similar=lists.similar_items(
            signals.confidence,
            neighbours,
            params.similar_k,
            available,
            sessions=lists.session_similarity(
                interactions, shrink=params.session_shrink, proximity=params.session_proximity
            ),
            session_share=params.session_share,
        ),
        bought_together=lists.bought_together(interactions, params.similar_k, available),
        popular={key: ranked for key, ranked in popular.items() if ranked},
        trending={key: ranked for key, ranked in trending.items() if ranked},
    )
    return TrainedVersion(family, model, signals, item_lists, selection, params)


def user_lists(
    trained: TrainedVersion,
    users: npt.NDArray[np.int64],
    unavailable: npt.NDArray[np.bool_],
    *,
    num_threads: int = 1,
) -> RankedLists:
    """Top-``top_k`` of ``users`` (rows of the training matrix), as published."""
    signals = trained.signals
    return rank(
        trained.model.scorer(users, signals.confidence[users], signals.profile[users]),
        trained.params.top_k,
        exclude=signals.exclude[users],
        unavailable=unavailable,
        boost=signals.boost[users],
        boost_weight=1.0,
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
            "ndcgDifferences": self.report.differences,
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
    fitted: FittedModel | None = None,
) -> Evaluation:
    """Holdout metrics of ``family`` (with the chosen ``params``) against popularity and bought
    most, and the gate's decision. ``fitted``: the family's model already fitted on the
    holdout's training part (the Spark engine), instead of fitting it here."""
    report = evaluate_holdout(
        interactions,
        unavailable,
        params,
        end_ts=end_ts,
        families=[family],
        fitted={family: fitted} if fitted is not None else None,
    )
    decision = gate(report.families.get(family), report.popularity, params, current_lift)
    return Evaluation(report, decision, family)
