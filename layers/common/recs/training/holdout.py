"""Time-based holdout evaluation of the lists a run would publish, and the quality gate.

Protocol (the same for the gate, the offline report, family selection and tuning):

* The last ``holdout_days`` before ``end_ts`` are held out; everything earlier is the training
  part, with time decay measured from the cut-off (the model never sees the future).
* Evaluated users: known users with training history and at least one relevant held-out item,
  a seeded sample of at most ``evaluation_max_users``.
* Relevant: the available products a user interacted with (any weighted event) in the holdout,
  minus those the publishing policy never shows them (purchases of products not bought again).
  Lists and relevance follow one policy, so no method is credited or blamed for items it may
  not show.
* Methods, each ranked by `recs.training.ranking.rank` exactly as for publishing: the model
  family (with the buy-again signal), popularity (distinct users per item, same exclusions)
  and "bought most" (the user's own purchases by number of days bought, the repeat-purchase
  baseline).
* Metrics: precision, recall, NDCG and catalog coverage at ``evaluation_k`` (`recs.evaluation`);
  the gate reads these. The report also gives the same metrics with only held-out purchases as
  relevant (``purchases``), the view a shop of repeat purchases cares most about.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.evaluation import PairedDifference, evaluate_topk, ndcg_per_user, paired_bootstrap
from recs.training.fitting import Family, fit
from recs.training.interactions import PURCHASE_CODE, Interactions
from recs.training.lists import popularity
from recs.training.matrix import SECONDS_PER_DAY, event_weight_vector, to_csr
from recs.training.parameters import TrainingParameters
from recs.training.ranking import PopularityScorer, Scorer, rank, top_of_rows
from recs.training.signals import Signals, derive_signals

#: Names of the baselines every comparison adds.
POPULARITY = "popularity"
BOUGHT_MOST = "boughtMost"


@dataclass(frozen=True)
class HoldoutReport:
    """Metrics per method (None when no user could be evaluated)."""

    cutoff_ts: float
    evaluated_users: int
    families: dict[str, dict[str, Any] | None]
    popularity: dict[str, Any] | None
    bought_most: dict[str, Any] | None
    purchases: dict[str, dict[str, Any] | None]
    train_interactions: int
    holdout_interactions: int

    def best_family(self) -> Family:
        scored = {f: m["ndcg"] for f, m in self.families.items() if m is not None}
        if not scored:
            return "als"
        best = max(scored, key=lambda family: (scored[family], family == "als"))
        return "ease" if best == "ease" else "als"

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoffTs": self.cutoff_ts,
            "evaluatedUsers": self.evaluated_users,
            "families": self.families,
            "popularity": self.popularity,
            "boughtMost": self.bought_most,
            "purchases": self.purchases,
            "trainInteractions": self.train_interactions,
            "holdoutInteractions": self.holdout_interactions,
        }


def holdout_mask(interactions: Interactions, *, end_ts: float, holdout_days: float) -> npt.NDArray[np.bool_]:
    """True for the interactions in the training part (before the cut-off)."""
    cutoff = end_ts - holdout_days * SECONDS_PER_DAY
    train: npt.NDArray[np.bool_] = interactions.timestamp < cutoff
    return train


#: (signals of the training part, evaluated users) -> a scorer over those users
MakeScorer = Callable[[Signals, npt.NDArray[np.int64]], Scorer]


@dataclass(frozen=True)
class HoldoutComparison:
    """Metrics of each method on one holdout split (None for a method when no user was evaluated)."""

    cutoff_ts: float
    evaluated_users: int
    on_interactions: dict[str, dict[str, Any] | None]
    on_purchases: dict[str, dict[str, Any] | None]
    train_interactions: int
    holdout_interactions: int
    # What the per-user figures are computed from, only when asked (the gate never asks).
    ranked: dict[str, npt.NDArray[np.int32]] = field(repr=False)
    relevant: sp.csr_matrix = field(repr=False)
    users: npt.NDArray[np.int64] = field(repr=False)
    k: int

    @property
    def methods(self) -> list[str]:
        return list(self.ranked)

    def ndcg_per_user(self, method: str) -> npt.NDArray[np.float64]:
        """NDCG of each evaluated user on held-out interactions, aligned across methods."""
        return ndcg_per_user(self.ranked[method], self.relevant, self.k, self.users)

    def difference(self, method: str, baseline: str, *, seed: int = 0) -> PairedDifference:
        """How sure ``method`` - ``baseline`` in NDCG is (paired bootstrap over the evaluated users)."""
        return paired_bootstrap(self.ndcg_per_user(method), self.ndcg_per_user(baseline), seed=seed)


def compare_on_holdout(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    methods: Mapping[str, tuple[MakeScorer, float]],
) -> HoldoutComparison:
    """The protocol above for any scorers: ``methods`` maps a name to (scorer, buy-again weight).

    Popularity and bought-most are always added (as ``popularity`` and ``boughtMost``); each
    scorer is built from the training part's signals only, for the evaluated users.
    """
    cutoff = end_ts - params.holdout_days * SECONDS_PER_DAY
    train_mask = interactions.timestamp < cutoff
    signals = derive_signals(interactions, params, now_ts=cutoff, mask=train_mask)
    weighted = event_weight_vector(params.event_weights)[interactions.event] > 0
    relevant = _relevant(interactions, ~train_mask & weighted, signals.exclude, unavailable)
    bought = _relevant(
        interactions, ~train_mask & (interactions.event == PURCHASE_CODE), signals.exclude, unavailable
    )
    users = _evaluated_users(interactions, signals.confidence, relevant, params)
    k = params.evaluation_k
    ids: dict[str, npt.NDArray[np.int32]] = {}
    if users.size:
        exclude, boost = signals.exclude[users], signals.boost[users]
        for name, (make_scorer, boost_weight) in methods.items():
            ids[name] = rank(
                make_scorer(signals, users),
                k,
                exclude=exclude,
                unavailable=unavailable,
                boost=boost,
                boost_weight=boost_weight,
            ).ids
        baseline = PopularityScorer(popularity(signals.confidence).astype(np.float32), int(users.size))
        ids[POPULARITY] = rank(baseline, k, exclude=exclude, unavailable=unavailable).ids
        own = sp.csr_matrix(signals.purchase_days[users].multiply(~unavailable[np.newaxis, :]))
        own.eliminate_zeros()
        own.sort_indices()
        ids[BOUGHT_MOST] = top_of_rows(own, k)[0]
    return HoldoutComparison(
        cutoff_ts=cutoff,
        evaluated_users=int(users.size),
        on_interactions={name: _metrics(top, relevant, users, k) for name, top in ids.items()},
        on_purchases={name: _metrics(top, bought, users, k) for name, top in ids.items()},
        train_interactions=int(train_mask.sum()),
        holdout_interactions=int((~train_mask).sum()),
        ranked=ids,
        relevant=relevant,
        users=users,
        k=k,
    )


def family_scorer(family: Family, params: TrainingParameters) -> MakeScorer:
    """A model family fitted on the training part's confidence, scoring the evaluated users."""

    def make(signals: Signals, users: npt.NDArray[np.int64]) -> Scorer:
        model = fit(family, signals.confidence, params)
        return model.scorer(users, signals.confidence[users])

    return make


def evaluate_holdout(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    families: Sequence[Family],
) -> HoldoutReport:
    """Evaluate ``families`` (fitted on the training part) against the baselines."""
    compared = compare_on_holdout(
        interactions,
        unavailable,
        params,
        end_ts=end_ts,
        methods={family: (family_scorer(family, params), params.buy_again_weight) for family in families},
    )
    return HoldoutReport(
        cutoff_ts=compared.cutoff_ts,
        evaluated_users=compared.evaluated_users,
        families={family: compared.on_interactions.get(family) for family in families},
        popularity=compared.on_interactions.get(POPULARITY),
        bought_most=compared.on_interactions.get(BOUGHT_MOST),
        purchases=compared.on_purchases,
        train_interactions=compared.train_interactions,
        holdout_interactions=compared.holdout_interactions,
    )


def _relevant(
    interactions: Interactions,
    selected: npt.NDArray[np.bool_],
    exclude: sp.csr_matrix,
    unavailable: npt.NDArray[np.bool_],
) -> sp.csr_matrix:
    relevant = to_csr(interactions, np.ones(len(interactions), dtype=np.float32), selected)
    relevant.data[:] = 1.0
    if exclude.nnz:
        relevant = relevant - relevant.multiply(exclude > 0)
    if unavailable.any():
        relevant = relevant.multiply(~unavailable[np.newaxis, :])
    relevant = sp.csr_matrix(relevant, dtype=np.float32)
    relevant.eliminate_zeros()
    relevant.sort_indices()
    return relevant


def _evaluated_users(
    interactions: Interactions,
    train: sp.csr_matrix,
    relevant: sp.csr_matrix,
    params: TrainingParameters,
) -> npt.NDArray[np.int64]:
    has_history = np.diff(train.indptr) > 0
    has_relevant = np.diff(relevant.indptr) > 0
    users = np.flatnonzero(has_history & has_relevant & interactions.is_user).astype(np.int64)
    if users.size > params.evaluation_max_users:
        rng = np.random.default_rng(params.random_seed)
        users = np.sort(rng.choice(users, size=params.evaluation_max_users, replace=False))
    return users


def _metrics(
    ids: npt.NDArray[np.int32], relevant: sp.csr_matrix, users: npt.NDArray[np.int64], k: int
) -> dict[str, Any] | None:
    """Metrics over the users with relevant items; None when there are none."""
    report = evaluate_topk(ids, relevant, k=k, users=users)
    return report.as_dict() if report.users else None


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str
    lift: float | None


def gate(
    model: dict[str, Any] | None,
    popular: dict[str, Any] | None,
    params: TrainingParameters,
    current_lift: float | None,
) -> GateDecision:
    """Refuse a model that does not beat popularity by the configured margin, or whose lift
    over popularity fell by more than ``gate_max_regression`` against the serving version.

    The current version was evaluated on other days, so NDCG values of the two runs are not
    comparable; their lifts over popularity on their own holdouts are.
    """
    if model is None or popular is None:
        return GateDecision(False, "no user could be evaluated in the holdout", None)
    ndcg, baseline = float(model["ndcg"]), float(popular["ndcg"])
    lift = ndcg / baseline if baseline > 0 else None
    required = baseline * (1.0 + params.gate_popularity_margin)
    if not ndcg > required:
        return GateDecision(
            False,
            f"NDCG@{model['k']} {ndcg:.4f} does not beat popularity {baseline:.4f}"
            f" by the required margin {params.gate_popularity_margin:.0%}",
            lift,
        )
    if current_lift is not None and lift is not None:
        floor = current_lift * (1.0 - params.gate_max_regression)
        if lift < floor:
            return GateDecision(
                False,
                f"lift over popularity {lift:.3f} is below the serving version's {current_lift:.3f}"
                f" minus {params.gate_max_regression:.0%}",
                lift,
            )
    return GateDecision(True, f"NDCG@{model['k']} {ndcg:.4f} beats popularity {baseline:.4f}", lift)
