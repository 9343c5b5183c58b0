"""Self-tuning: every run picks its model family, key hyperparameters and buy-again mix on a
validation split, within a budget.

The split never touches the test holdout: each known user's last visit is the test holdout
(the gate's), and the search holds out each user's last visit *before* it, training on what
remains (`recs.training.evaluate.holdout.hold_out` on the part before the test visits).

Search: a coordinate search. It starts from the run's parameters (the defaults, or the previous
version's choice in the daily workflow) and scores each candidate family there. Each family,
the most promising first, then gets one pass over its axes (its hyperparameters, the profile's
recency, the model input's time decay), keeping every move that scores better; the best family
then keeps moving until no move helps. The budget (fits and seconds, and the step's deadline:
`Budget`) can stop it before any fit it could not finish. Every fitted
candidate also searches the mix with the repeat model (its weight, how much each shopper's repeat
rate scales it, the basket decay), which only re-ranks precomputed candidates and costs no fit.
The record of every trial goes into the version's metadata.

Fusion, exactly as published (`recs.training.fit.ranking.rank`): a user's top-k under
``collaborative / best collaborative + boost`` only ever holds the user's top-k collaborative
products and the products the repeat model boosts, so those candidates, computed once per fit,
score every mix exactly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.engine.topk import candidate_columns
from recs.evaluation import graded_ndcg_per_user
from recs.training.deadline import Deadline
from recs.training.evaluate.holdout import BOUGHT_MOST, POPULARITY, HeldOut, baseline_lists, hold_out
from recs.training.fit.fitting import Family, candidate_families, fit
from recs.training.fit.repurchase import (
    RepeatRates,
    own_history,
    purchased_exclusions,
    repeat_rates,
    repurchase_profile,
    scope_strength,
)
from recs.training.fit.signals import recency_profile, repeat_boost
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions
from recs.training.prepare.matrix import confidence_matrix
from recs.training.prepare.visits import Visits, find_visits, last_visit_holdout

#: Values a stepped axis may take, in order (neighbours are the adjacent values).
STEPPED: dict[str, tuple[Any, ...]] = {
    "profile_half_life": (0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
    "knn_neighbours": (10, 25, 50, 100, 200, 400, 800),
    "half_life_days": (7.0, 14.0, 30.0, 60.0, 120.0, 240.0, 0.0),
    "buy_again_weight": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0),
    "repeat_personal": (0.0, 0.25, 0.5, 1.0, 2.0),
    "repeat_decay": (0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0),
    "repeat_scope": ("purchase", "all"),
    "exclude_purchased": (True, False),
}
#: Geometric axes: (factor between neighbours, lowest, highest).
GEOMETRIC: dict[str, tuple[float, float, float]] = {
    "ease_l2": (2.5, 1.0, 1e5),
    "als_regularization": (3.0, 1e-3, 1e3),
    "als_alpha": (2.0, 0.05, 200.0),
    "als_factors": (2.0, 8.0, 256.0),
}
#: The hyperparameters each family's search moves (the mix is searched for every fit).
FAMILY_AXES: dict[Family, tuple[str, ...]] = {
    "ease": ("ease_l2", "profile_half_life"),
    "als": ("als_factors", "als_regularization", "als_alpha", "profile_half_life", "half_life_days"),
    "knn": ("knn_neighbours", "profile_half_life", "half_life_days"),
}
#: Chosen after the search, on next-item predictions (`recs.training.fit.session_lists`).
SESSION_LIST_AXES = (
    "session_share",
    "session_shrink",
    "session_proximity",
    "session_seeds",
    "session_recency",
)
MIX_AXES = ("buy_again_weight", "repeat_personal", "repeat_decay", "repeat_scope", "exclude_purchased")
#: Mix evaluations per fit (each only re-ranks candidates).
MIX_EVALUATIONS = 40

#: Called after each fitted trial with (trial number, trial record).
Progress = Callable[[int, dict[str, Any]], None]


#: Under a deadline, the fits' worth of time the search leaves for what follows it in the same
#: step: the session path's choice and the fit on the whole window with its lists each take about
#: one search fit (bench/training_scale.py at 1M users: 0.8 and 0.9 of one), and one for a margin.
DEADLINE_RESERVE_FITS = 3.0


@dataclass
class Budget:
    """Fits and seconds a search may spend, and the deadline of the step it runs in.

    A fit starts only when one as long as the longest so far would end within ``seconds`` and,
    under a ``deadline``, still leave `DEADLINE_RESERVE_FITS` such fits' worth of time before it:
    at a million users one fit takes minutes, and a fit started just before the budget's end ran
    the Train step past the training function's 15 minutes. The first fit always runs (nothing
    is known of its length before it).
    """

    max_fits: int
    seconds: float
    clock: Callable[[], float] = time.perf_counter
    deadline: Deadline | None = None
    fits: int = 0
    longest: float = 0.0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def record(self, seconds: float) -> None:
        """A fit has ended after ``seconds``."""
        self.fits += 1
        self.longest = max(self.longest, seconds)

    def stop(self) -> str | None:
        """Why the next fit must not start (``budget`` or ``deadline``), or None."""
        if self.fits >= self.max_fits or self.elapsed + self.longest > self.seconds:
            return "budget"
        return "deadline" if self.near_deadline() else None

    def near_deadline(self) -> bool:
        """Whether one more fit would eat into the time reserved for the rest of the step."""
        if self.deadline is None or self.fits == 0:
            return False
        return self.deadline.left() < self.longest * (1.0 + DEADLINE_RESERVE_FITS)

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started


@dataclass(frozen=True)
class SearchResult:
    """The chosen parameters, their validation NDCG and every trial."""

    best: TrainingParameters
    best_score: float
    baselines: dict[str, float]
    trials: list[dict[str, Any]]
    validation_users: int
    stopped_by: str
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.best.model_family,
            "chosen": searched_values(self.best),
            "validationNdcg": round(self.best_score, 6),
            "baselines": {name: round(value, 6) for name, value in self.baselines.items()},
            "validationUsers": self.validation_users,
            "fits": len(self.trials),
            "stoppedBy": self.stopped_by,
            "seconds": round(self.seconds, 2),
            "trials": self.trials,
        }


def searched_values(params: TrainingParameters) -> dict[str, Any]:
    """What the search may change, for the family of ``params`` (recorded with a version)."""
    names = ("model_family", *FAMILY_AXES[_family(params)], *MIX_AXES, *SESSION_LIST_AXES)
    return {name: getattr(params, name) for name in names}


def neighbours(axis: str, value: Any, n_items: int) -> list[Any]:
    """The values next to ``value`` on ``axis`` (one or two)."""
    if axis in STEPPED:
        steps = STEPPED[axis]
        if value not in steps:
            # A value set by hand: start from the nearest listed ones.
            ordered = sorted(steps, key=lambda s: abs(_axis_position(axis, s) - _axis_position(axis, value)))
            return sorted(ordered[:2], key=steps.index)
        at = steps.index(value)
        return [steps[i] for i in (at - 1, at + 1) if 0 <= i < len(steps)]
    factor, low, high = GEOMETRIC[axis]
    if axis == "als_factors":
        high = min(high, max(low, float(n_items)))
        options = [round(value / factor), round(value * factor)]
        return [v for v in options if low <= v <= high and v != value]
    return [v for v in (value / factor, value * factor) if low <= v <= high]


def _axis_position(axis: str, value: Any) -> float:
    if axis == "half_life_days" and value == 0:
        return math.inf  # no decay sits beyond the longest half-life
    if isinstance(value, str):
        return float(STEPPED[axis].index(value)) if value in STEPPED[axis] else 0.0
    return float(value)


@dataclass
class _Prepared:
    """The validation split, and what every candidate fit reuses."""

    interactions: Interactions
    unavailable: npt.NDArray[np.bool_]
    end_ts: float
    split: HeldOut
    columns: npt.NDArray[np.int32] | None
    params: TrainingParameters
    own_cache: dict[tuple[float, str], sp.csr_matrix] = field(default_factory=dict)
    rates_cache: dict[str, RepeatRates] = field(default_factory=dict)
    confidence_cache: dict[float, sp.csr_matrix] = field(default_factory=dict)
    profile_cache: dict[float, sp.csr_matrix] = field(default_factory=dict)
    visits: Visits | None = None

    @cached_property
    def policy_exclusions(self) -> sp.csr_matrix:
        """The one-off purchases of the training part (`purchased_exclusions`), whatever the
        run's own setting: the search tries the policy both ways."""
        days = self.split.signals.purchase_days
        params = self.params
        profile = repurchase_profile(
            days, min_rate=params.buy_again_min_rate, min_buyers=params.buy_again_min_buyers
        )
        return purchased_exclusions(days, profile)

    @cached_property
    def no_exclusions(self) -> sp.csr_matrix:
        return sp.csr_matrix(self.split.signals.purchase_days.shape, dtype=np.float32)

    def confidence(self, params: TrainingParameters) -> sp.csr_matrix:
        key = params.half_life_days
        if key not in self.confidence_cache:
            self.confidence_cache[key] = confidence_matrix(
                self.interactions,
                params.event_weights,
                now_ts=self.end_ts,
                half_life_days=key,
                mask=self.split.train,
            )
        return self.confidence_cache[key]

    def profile(self, params: TrainingParameters) -> sp.csr_matrix:
        key = params.profile_half_life
        if key not in self.profile_cache:
            self.profile_cache[key] = recency_profile(
                self.interactions, self.split.signals.confidence, key, mask=self.split.train
            )
        return self.profile_cache[key]

    def _visits(self, params: TrainingParameters) -> Visits:
        if self.visits is None:
            self.visits = find_visits(
                self.interactions, gap_minutes=params.visit_gap_minutes, mask=self.split.train
            )
        return self.visits

    @cached_property
    def validation_rows(self) -> npt.NDArray[np.bool_]:
        """The training part's interactions of the validation users: a user's own history
        depends on their interactions only, so scoring them needs nobody else's."""
        evaluated = np.zeros(self.interactions.n_users, dtype=np.bool_)
        evaluated[self.split.users] = True
        rows: npt.NDArray[np.bool_] = self.split.train & evaluated[self.interactions.user]
        return rows

    def own(self, params: TrainingParameters) -> sp.csr_matrix:
        """The repeat model's own shares, for the validation users (other rows stay empty)."""
        key = (params.repeat_decay, params.repeat_scope)
        if key not in self.own_cache:
            strength = scope_strength(self.interactions, params.repeat_scope, params.event_weights)
            self.own_cache[key] = own_history(
                self.interactions,
                self._visits(params),
                decay=params.repeat_decay,
                strength=strength,
                mask=self.validation_rows,
            )
        return self.own_cache[key]

    def rates(self, params: TrainingParameters) -> RepeatRates:
        if params.repeat_scope not in self.rates_cache:
            strength = scope_strength(self.interactions, params.repeat_scope, params.event_weights)
            self.rates_cache[params.repeat_scope] = repeat_rates(
                self.interactions, self._visits(params), strength=strength, mask=self.split.train
            )
        return self.rates_cache[params.repeat_scope]


@dataclass(frozen=True)
class _Candidates:
    """Per validation user: the top-k collaborative products (normalized scores) and the
    normalized collaborative score of every product the repeat model may boost."""

    top_ids: npt.NDArray[np.int32]
    top_scores: npt.NDArray[np.float32]
    at_own: sp.csr_matrix  # users x items, stored where the user may be boosted


def search(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    start: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.perf_counter,
    explore: bool = True,
    deadline: Deadline | None = None,
) -> SearchResult:
    """Choose the family, hyperparameters and mix on the validation split (module docstring).

    Parameters
    ----------
    interactions, unavailable
        The run's interactions and the products that may not be recommended.
    params
        The run's parameters: the search's space is centred on them, and its budget is
        ``tuning_max_fits`` fits and ``tuning_budget_seconds``.
    end_ts
        End of the window (time decay is measured from it).
    start
        Values to start from instead of ``params``' (the previous version's choice).
    progress
        Called after each fitted trial.
    clock
        Seconds, for the budget.
    explore
        False scores each candidate family at ``params`` as they are (no hyperparameter moves,
        no mix search): the family choice of a run with ``auto_tune`` off.
    deadline
        When the step running the search must be done (`Budget`); None: no deadline.
    """
    base = params.model_copy(update=dict(start or {}))
    test = last_visit_holdout(
        interactions, gap_minutes=params.visit_gap_minutes, fraction=params.holdout_fraction
    )
    split = hold_out(
        interactions, unavailable, base, end_ts=end_ts, mask=~test, max_users=params.tuning_max_users
    )
    if split.users.size == 0:
        raise ValueError("no user could be evaluated on the validation split")
    prepared = _Prepared(
        interactions,
        unavailable,
        end_ts,
        split,
        candidate_columns(unavailable, interactions.n_items) if unavailable.any() else None,
        base,
    )
    baselines = {
        name: float(graded_ndcg_per_user(ids, split.relevant, base.evaluation_k, split.users).mean())
        for name, ids in baseline_lists(split.signals, split.users, unavailable, base.evaluation_k).items()
        if name in (POPULARITY, BOUGHT_MOST)
    }
    budget = Budget(params.tuning_max_fits, params.tuning_budget_seconds, clock, deadline)
    trials: list[dict[str, Any]] = []
    scored: dict[tuple[Any, ...], tuple[float, TrainingParameters]] = {}

    def evaluate(option: TrainingParameters) -> tuple[float, TrainingParameters]:
        key = _fit_key(option)
        if key in scored:
            return scored[key]
        began = clock()
        score, mixed = _fit_and_mix(prepared, option, explore=explore)
        seconds = clock() - began
        budget.record(seconds)
        scored[key] = (score, mixed)
        record = {
            "family": mixed.model_family,
            "parameters": searched_values(mixed),
            "ndcg": round(score, 6),
            "seconds": round(seconds, 3),
        }
        trials.append(record)
        if progress is not None:
            progress(len(trials) - 1, record)
        return score, mixed

    n_items = interactions.n_items
    families = candidate_families(params, n_items, int(interactions.is_user.sum()))
    # Every candidate family is scored at the starting point whatever the budget (the family
    # choice needs each), unless the step's deadline is near.
    starts: list[tuple[float, TrainingParameters]] = []
    stopped_by: str | None = None
    for family in families:
        if starts and budget.near_deadline():
            stopped_by = "deadline"
            break
        starts.append(evaluate(base.model_copy(update={"model_family": family})))
    # Each family gets one pass over its axes (the most promising first), then the best family
    # keeps moving until no move helps: a family that starts behind can still win once tuned.
    ranked = sorted(starts, key=lambda scored_option: -scored_option[0])
    best_score, best = ranked[0]
    if explore and stopped_by is None:
        for start_score, start_option in ranked:
            score, option, stopped_by = _coordinate_pass(start_score, start_option, evaluate, budget, n_items)
            if score > best_score:
                best_score, best = score, option
            if stopped_by:
                break
        while stopped_by is None:
            score, option, stopped_by = _coordinate_pass(best_score, best, evaluate, budget, n_items)
            if score <= best_score:
                break
            best_score, best = score, option
    return SearchResult(
        best=best,
        best_score=best_score,
        baselines=baselines,
        trials=trials,
        validation_users=int(split.users.size),
        stopped_by=stopped_by or ("converged" if explore else "not exploring"),
        seconds=budget.elapsed,
    )


def _coordinate_pass(
    score: float,
    option: TrainingParameters,
    evaluate: Callable[[TrainingParameters], tuple[float, TrainingParameters]],
    budget: Budget,
    n_items: int,
) -> tuple[float, TrainingParameters, str | None]:
    """One move along each axis of ``option``'s family (kept when it scores better); the
    best found, and why the budget stopped the pass (None: it did not)."""
    for axis in FAMILY_AXES[_family(option)]:
        for value in neighbours(axis, getattr(option, axis), n_items):
            stop = budget.stop()
            if stop:
                return score, option, stop
            candidate_score, candidate = evaluate(option.model_copy(update={axis: value}))
            if candidate_score > score:
                score, option = candidate_score, candidate
    return score, option, None


def _family(option: TrainingParameters) -> Family:
    return "als" if option.model_family == "auto" else option.model_family


def _fit_key(option: TrainingParameters) -> tuple[Any, ...]:
    family = _family(option)
    return (family, *(getattr(option, axis) for axis in FAMILY_AXES[family]))


def _fit_and_mix(
    prepared: _Prepared, option: TrainingParameters, *, explore: bool
) -> tuple[float, TrainingParameters]:
    """Fit ``option``'s family, then search the mix on its candidates; the best score and mix."""
    family = _family(option)
    split = prepared.split
    confidence = prepared.confidence(option)
    model = fit(family, confidence, option)
    users = split.users
    scorer = model.scorer(users, confidence[users], prepared.profile(option)[users])
    # Everything either scope may boost (scope "all" holds every product a user touched), with
    # the exclusion policy on and off: the search learns whether shoppers come back to one-offs.
    widest = option.model_copy(update={"repeat_decay": 1.0, "repeat_scope": "all"})
    own = prepared.own(widest)[users]
    policy = prepared.policy_exclusions[users]
    nothing = sp.csr_matrix(policy.shape, dtype=np.float32)
    excluding, including = _candidates(
        scorer,
        [(_boostable(own, policy), policy), (_boostable(own, nothing), nothing)],
        prepared.columns,
        option,
    )

    def mix_score(mix: TrainingParameters) -> float:
        exclude = prepared.policy_exclusions if mix.exclude_purchased else prepared.no_exclusions
        boost = repeat_boost(prepared.own(mix), prepared.rates(mix), exclude, mix)[users]
        top = _fused_top(excluding if mix.exclude_purchased else including, boost, mix.evaluation_k)
        return float(graded_ndcg_per_user(top, split.relevant, mix.evaluation_k, users).mean())

    if not explore:
        return mix_score(option), option
    return _coordinate_mix(option, mix_score)


def _coordinate_mix(
    option: TrainingParameters, score_of: Callable[[TrainingParameters], float]
) -> tuple[float, TrainingParameters]:
    """Coordinate search over the mix axes from ``option``'s mix (cheap: no fit)."""
    seen: dict[tuple[float, ...], float] = {}

    def scored(mix: TrainingParameters) -> float:
        key = tuple(getattr(mix, axis) for axis in MIX_AXES)
        if key not in seen:
            seen[key] = score_of(mix)
        return seen[key]

    best, best_score = option, scored(option)
    improved = True
    while improved and len(seen) < MIX_EVALUATIONS:
        improved = False
        for axis in MIX_AXES:
            if axis != "buy_again_weight" and best.buy_again_weight == 0:
                continue  # without the repeat model its shape does not matter
            for value in neighbours(axis, getattr(best, axis), 0):
                candidate = best.model_copy(update={axis: value})
                score = scored(candidate)
                if score > best_score:
                    best, best_score, improved = candidate, score, True
    return best_score, best


def _boostable(own: sp.csr_matrix, exclude: sp.csr_matrix) -> sp.csr_matrix:
    """The (user, product) pairs the repeat model may boost: own history minus exclusions."""
    pattern = own.copy()
    pattern.data = np.ones_like(pattern.data)
    if exclude.nnz:
        pattern = sp.csr_matrix(pattern - pattern.multiply(exclude > 0))
    pattern.eliminate_zeros()
    pattern.sort_indices()
    return pattern


def _candidates(
    scorer: Any,
    variants: Sequence[tuple[sp.csr_matrix, sp.csr_matrix]],
    columns: npt.NDArray[np.int32] | None,
    params: TrainingParameters,
    block_rows: int = 1024,
) -> list[_Candidates]:
    """Normalized collaborative scores, as `rank` normalizes them before it adds a boost, for
    each (boostable, excluded) variant; the scores are computed once for all of them."""
    n_rows, n_items, k = scorer.n_rows, scorer.n_items, params.evaluation_k
    tops = [
        (np.full((n_rows, k), -1, dtype=np.int32), np.full((n_rows, k), -np.inf, dtype=np.float32))
        for _ in variants
    ]
    own_values = [np.zeros(boostable.nnz, dtype=np.float32) for boostable, _ in variants]
    position = None
    if columns is not None:
        position = np.full(n_items, -1, dtype=np.int64)
        position[columns] = np.arange(columns.size)
    for start in range(0, n_rows, block_rows):
        stop = min(start + block_rows, n_rows)
        scored = scorer.scores(start, stop, columns)
        best = np.maximum(scored.max(axis=1, keepdims=True), np.float32(1e-6)) if scored.size else scored
        scored = scored / best
        for (boostable, exclude), values, (top_ids, top_scores) in zip(
            variants, own_values, tops, strict=True
        ):
            lo, hi = boostable.indptr[start], boostable.indptr[stop]
            values[lo:hi] = _gather(scored, boostable[start:stop], position)
            block = scored.copy() if exclude.nnz else scored
            # Excluded products never make a list.
            excluded = exclude[start:stop].tocoo()
            ex_cols = excluded.col.astype(np.int64) if position is None else position[excluded.col]
            keep = ex_cols >= 0
            block[excluded.row[keep], ex_cols[keep]] = -np.inf
            _top_into(block, columns, k, top_ids[start:stop], top_scores[start:stop])
    return [
        _Candidates(top_ids, top_scores, sp.csr_matrix((values, b.indices, b.indptr), shape=b.shape))
        for (b, _), values, (top_ids, top_scores) in zip(variants, own_values, tops, strict=True)
    ]


def _gather(
    block: npt.NDArray[np.float32], rows: sp.csr_matrix, position: npt.NDArray[np.int64] | None
) -> npt.NDArray[np.float32]:
    """The block's value at each stored entry of ``rows`` (-inf where the column is not scored)."""
    row = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    cols = rows.indices.astype(np.int64)
    cols = cols if position is None else position[cols]
    inside = cols >= 0
    values = np.full(cols.size, -np.inf, dtype=np.float32)
    values[inside] = block[row[inside], cols[inside]]
    return values


def _top_into(
    block: npt.NDArray[np.float32],
    columns: npt.NDArray[np.int32] | None,
    k: int,
    ids_out: npt.NDArray[np.int32],
    scores_out: npt.NDArray[np.float32],
) -> None:
    """Each row's top-``k`` of ``block`` (ties: lower column first), written into the outputs."""
    width = min(k, block.shape[1])
    if width == 0:
        return
    part = np.argpartition(-block, width - 1, axis=1)[:, :width]
    part_scores = np.take_along_axis(block, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    chosen = np.take_along_axis(part, order, axis=1)
    chosen_scores = np.take_along_axis(part_scores, order, axis=1)
    ids = chosen if columns is None else columns[chosen]
    valid = np.isfinite(chosen_scores)
    ids_out[:, :width] = np.where(valid, ids, -1)
    scores_out[:, :width] = np.where(valid, chosen_scores, -np.inf)


def _fused_top(candidates: _Candidates, boost: sp.csr_matrix, k: int) -> npt.NDArray[np.int32]:
    """Each user's top-``k`` under ``normalized collaborative + boost`` (see the module)."""
    at_own = candidates.at_own
    n_rows = at_own.shape[0]
    own_rows = np.repeat(np.arange(n_rows), np.diff(at_own.indptr))
    own_cols = at_own.indices.astype(np.int64)
    added = _values_at(boost, own_rows, own_cols)
    own_scores = at_own.data + added
    # Top candidates that are not own products (those are scored above with their boost).
    flat_rows = np.repeat(np.arange(n_rows), candidates.top_ids.shape[1])
    flat_ids = candidates.top_ids.reshape(-1).astype(np.int64)
    flat_scores = candidates.top_scores.reshape(-1)
    keep = (flat_ids >= 0) & ~_stored(at_own, flat_rows, flat_ids)
    rows = np.concatenate([own_rows, flat_rows[keep]])
    cols = np.concatenate([own_cols, flat_ids[keep]])
    scores = np.concatenate([own_scores, flat_scores[keep]])
    finite = np.isfinite(scores)
    rows, cols, scores = rows[finite], cols[finite], scores[finite]
    order = np.lexsort((cols, -scores, rows))
    rows, cols = rows[order], cols[order]
    counts = np.bincount(rows, minlength=n_rows)
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(rows.size) - firsts[rows]
    top = np.full((n_rows, k), -1, dtype=np.int32)
    inside = rank < k
    top[rows[inside], rank[inside]] = cols[inside]
    return top


def _values_at(matrix: sp.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> Any:
    """``matrix[rows[i], cols[i]]`` for every i (0 where nothing is stored), vectorised."""
    if matrix.nnz == 0 or rows.size == 0:
        return np.zeros(rows.size, dtype=np.float32)
    found, hit = _lookup(matrix, rows, cols)
    return np.where(hit, matrix.data[found], 0.0).astype(np.float32)


def _stored(matrix: sp.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> Any:
    """Whether ``(rows[i], cols[i])`` is a stored entry of ``matrix``."""
    if matrix.nnz == 0 or rows.size == 0:
        return np.zeros(rows.size, dtype=np.bool_)
    return _lookup(matrix, rows, cols)[1]


def _lookup(matrix: sp.csr_matrix, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> Any:
    """For each ``(rows[i], cols[i])``: where it would sit among ``matrix``'s stored entries (a
    row-major key per entry, searched) and whether it is one of them. ``matrix`` is non-empty."""
    n_cols = matrix.shape[1]
    keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)) * n_cols
    keys += matrix.indices
    queries = rows * n_cols + cols
    found = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return found, keys[found] == queries
