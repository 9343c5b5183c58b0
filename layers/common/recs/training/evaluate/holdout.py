"""Per-shopper holdout evaluation of the lists a run would publish, and the quality gate.

Protocol (the same for the gate, the offline report, the search and `make bench`):

* Each known user's last visit is held out (`recs.training.prepare.visits.last_visit_holdout`: a
  session, or a burst of events; for a user with a single visit, its last share); everything
  else is the training part. Every shopper with history is evaluated, so a shop with one week
  of data, or with shoppers who come monthly, still gets a decision resting on hundreds to
  thousands of users rather than on the few who came back in the last days.
* Evaluated users: known users with training history and at least one relevant held-out
  item, a seeded sample of at most ``evaluation_max_users``.
* Relevant: the available products a user interacted with (any weighted event) in the held-out
  visit. Relevance never depends on what the product's policy would show: a purchase of a
  product the policy filters out still counts, and a method that cannot show it misses it.
* Methods, each ranked by `recs.training.fit.ranking.rank` exactly as for publishing: the model
  (collaborative scores on the recency-weighted profile, fused with the repeat model), popularity
  (distinct users per product, with the purchase exclusions serving applies) and "bought most,
  then popular" (the user's products by purchase days over the whole training part, then the
  most popular: the repeat-purchase baseline).
* Metrics: precision, recall, NDCG and catalog coverage at ``evaluation_k``
  (`recs.evaluation`), and again with held-out purchases only as relevant (``purchases``).
  Each comparison with a baseline carries a paired-bootstrap interval over the users.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.evaluation import PairedDifference, evaluate_topk, ndcg_per_user, paired_bootstrap
from recs.training.fit.fitting import Family, FittedModel, fit
from recs.training.fit.lists import popularity
from recs.training.fit.ranking import PopularityScorer, Scorer, rank
from recs.training.fit.signals import Signals, derive_signals
from recs.training.parameters import EvaluationParameters
from recs.training.prepare.interactions import PURCHASE_CODE, Interactions
from recs.training.prepare.visits import last_visit_holdout
from recs.training.prepare.weights import event_weight_vector

#: Names of the baselines every comparison adds.
POPULARITY = "popularity"
BOUGHT_MOST = "boughtMost"
#: Weight that puts any purchased product above every popular one in "bought most".
_OWN_FIRST = 1_000.0


@dataclass(frozen=True)
class HeldOut:
    """One holdout split: the training part's signals, who is evaluated and what is relevant."""

    train: npt.NDArray[np.bool_]
    held: npt.NDArray[np.bool_]
    signals: Signals
    users: npt.NDArray[np.int64]
    relevant: sp.csr_matrix
    bought: sp.csr_matrix

    @property
    def train_interactions(self) -> int:
        return int(self.train.sum())

    @property
    def holdout_interactions(self) -> int:
        return int(self.held.sum())


def hold_out(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: EvaluationParameters,
    *,
    end_ts: float,
    mask: npt.NDArray[np.bool_] | None = None,
    max_users: int | None = None,
) -> HeldOut:
    """Split the interactions selected by ``mask`` (all when None) into training part and
    each known user's last visit, and derive what the methods and metrics need."""
    selected = np.ones(len(interactions), dtype=np.bool_) if mask is None else mask
    held = last_visit_holdout(
        interactions, gap_minutes=params.visit_gap_minutes, fraction=params.holdout_fraction, mask=selected
    )
    train = selected & ~held
    signals = derive_signals(interactions, params, now_ts=end_ts, mask=train)
    weights = event_weight_vector(params.event_weights)[interactions.event]
    relevant = _relevant(interactions, held & (weights > 0), unavailable, weights)
    bought = _relevant(interactions, held & (interactions.event == PURCHASE_CODE), unavailable, weights)
    users = _evaluated_users(
        interactions,
        signals.confidence,
        relevant,
        params.random_seed,
        max_users or params.evaluation_max_users,
    )
    return HeldOut(train, held, signals, users, relevant, bought)


#: (signals of the training part, evaluated users) -> a scorer over those users
MakeScorer = Callable[[Signals, npt.NDArray[np.int64]], Scorer]


@dataclass(frozen=True)
class HoldoutComparison:
    """Metrics of each method on one holdout split (None for a method when no user was evaluated)."""

    evaluated_users: int
    on_interactions: dict[str, dict[str, Any] | None]
    on_purchases: dict[str, dict[str, Any] | None]
    train_interactions: int
    holdout_interactions: int
    # What the per-user figures are computed from.
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
    params: EvaluationParameters,
    *,
    end_ts: float,
    methods: Mapping[str, tuple[MakeScorer, bool]],
    mask: npt.NDArray[np.bool_] | None = None,
) -> HoldoutComparison:
    """The protocol above for any scorers: ``methods`` maps a name to (scorer, whether the
    repeat model's boost is fused in). Popularity and bought-most are always added."""
    split = hold_out(interactions, unavailable, params, end_ts=end_ts, mask=mask)
    signals, users, k = split.signals, split.users, params.evaluation_k
    ids: dict[str, npt.NDArray[np.int32]] = {}
    if users.size:
        exclude, boost = signals.exclude[users], signals.boost[users]
        for name, (make_scorer, with_repeat) in methods.items():
            ids[name] = rank(
                make_scorer(signals, users),
                k,
                exclude=exclude,
                unavailable=unavailable,
                boost=boost if with_repeat else None,
                boost_weight=1.0,
            ).ids
        ids.update(baseline_lists(signals, users, unavailable, k))
    return HoldoutComparison(
        evaluated_users=int(users.size),
        on_interactions={name: _metrics(top, split.relevant, users, k) for name, top in ids.items()},
        on_purchases={name: _metrics(top, split.bought, users, k) for name, top in ids.items()},
        train_interactions=split.train_interactions,
        holdout_interactions=split.holdout_interactions,
        ranked=ids,
        relevant=split.relevant,
        users=users,
        k=k,
    )


def baseline_lists(
    signals: Signals, users: npt.NDArray[np.int64], unavailable: npt.NDArray[np.bool_], k: int
) -> dict[str, npt.NDArray[np.int32]]:
    """Top-``k`` of popularity and of "bought most, then popular" for ``users``."""
    scores = popularity(signals.confidence).astype(np.float32)
    baseline = PopularityScorer(scores, int(users.size))
    popular = rank(baseline, k, exclude=signals.exclude[users], unavailable=unavailable).ids
    # Purchase days first (each day counts; any purchased product above any popular one), ties
    # and the rest of the list by popularity: no exclusions, the user's own habits as they are.
    bought_most = rank(
        baseline, k, unavailable=unavailable, boost=signals.purchase_days[users], boost_weight=_OWN_FIRST
    ).ids
    return {POPULARITY: popular, BOUGHT_MOST: bought_most}


def family_scorer(
    family: Family, params: EvaluationParameters, fitted: FittedModel | None = None
) -> MakeScorer:
    """A model family fitted on the training part's confidence (or ``fitted``, fitted on it
    elsewhere), scoring the evaluated users' recency-weighted profiles."""

    def make(signals: Signals, users: npt.NDArray[np.int64]) -> Scorer:
        model = fitted or fit(family, signals.confidence, params)
        return model.scorer(users, signals.confidence[users], signals.profile[users])

    return make


@dataclass(frozen=True)
class HoldoutReport:
    """Metrics per method (None when no user could be evaluated), with the paired intervals of
    the model against each baseline."""

    evaluated_users: int
    families: dict[str, dict[str, Any] | None]
    popularity: dict[str, Any] | None
    bought_most: dict[str, Any] | None
    purchases: dict[str, dict[str, Any] | None]
    differences: dict[str, dict[str, Any]]
    train_interactions: int
    holdout_interactions: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": "each known user's last visit held out",
            "evaluatedUsers": self.evaluated_users,
            "families": self.families,
            "popularity": self.popularity,
            "boughtMost": self.bought_most,
            "purchases": self.purchases,
            "ndcgDifferences": self.differences,
            "trainInteractions": self.train_interactions,
            "holdoutInteractions": self.holdout_interactions,
        }


def evaluate_holdout(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: EvaluationParameters,
    *,
    end_ts: float,
    families: Sequence[Family],
    fitted: Mapping[Family, FittedModel] | None = None,
) -> HoldoutReport:
    """Evaluate ``families`` (fitted on the training part, here or, in ``fitted``, elsewhere)
    against the baselines."""
    prefitted = fitted or {}
    compared = compare_on_holdout(
        interactions,
        unavailable,
        params,
        end_ts=end_ts,
        methods={family: (family_scorer(family, params, prefitted.get(family)), True) for family in families},
    )
    differences: dict[str, dict[str, Any]] = {}
    if compared.evaluated_users:
        for family in families:
            for baseline in (POPULARITY, BOUGHT_MOST):
                difference = compared.difference(family, baseline, seed=params.random_seed)
                differences[f"{family} - {baseline}"] = difference.as_dict()
    return HoldoutReport(
        evaluated_users=compared.evaluated_users,
        families={family: compared.on_interactions.get(family) for family in families},
        popularity=compared.on_interactions.get(POPULARITY),
        bought_most=compared.on_interactions.get(BOUGHT_MOST),
        purchases=compared.on_purchases,
        differences=differences,
        train_interactions=compared.train_interactions,
        holdout_interactions=compared.holdout_interactions,
    )


def _relevant(
    interactions: Interactions,
    selected: npt.NDArray[np.bool_],
    unavailable: npt.NDArray[np.bool_],
    weights: npt.NDArray[np.float32],
) -> sp.csr_matrix:
    """Held-out (user, product) pairs; each value is the strongest event's weight (the gain of
    graded NDCG; binary metrics read only which pairs are stored)."""
    key = interactions.user[selected].astype(np.int64) * interactions.n_items + interactions.item[selected]
    pairs, inverse = np.unique(key, return_inverse=True)
    strongest = np.zeros(pairs.size, dtype=np.float32)
    np.maximum.at(strongest, inverse, weights[selected])
    relevant = sp.csr_matrix(
        (strongest, (pairs // interactions.n_items, pairs % interactions.n_items)),
        shape=(interactions.n_users, interactions.n_items),
        dtype=np.float32,
    )
    if unavailable.any():
        # Nothing can recommend a product no longer sold: it is nobody's miss.
        relevant = relevant.multiply(~unavailable[np.newaxis, :])
    relevant = sp.csr_matrix(relevant, dtype=np.float32)
    relevant.eliminate_zeros()
    relevant.sort_indices()
    return relevant


def _evaluated_users(
    interactions: Interactions, train: sp.csr_matrix, relevant: sp.csr_matrix, seed: int, max_users: int
) -> npt.NDArray[np.int64]:
    has_history = np.diff(train.indptr) > 0
    has_relevant = np.diff(relevant.indptr) > 0
    users = np.flatnonzero(has_history & has_relevant & interactions.is_user).astype(np.int64)
    if users.size > max_users:
        rng = np.random.default_rng(seed)
        users = np.sort(rng.choice(users, size=max_users, replace=False))
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
    params: EvaluationParameters,
    current_lift: float | None,
) -> GateDecision:
    """Refuse a model that does not beat popularity by the configured margin, or whose lift
    over popularity fell by more than ``gate_max_regression`` against the serving version.

    The current version was evaluated on other visits, so NDCG values of the two runs are not
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
