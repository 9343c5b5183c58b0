"""Fit the personalized model of a run (ALS, or EASE for small catalogs) and score users with it.

The numerical engine lives in `recs.engine`; this module turns the run's parameters into an
engine model, fits it, and hands ranking a `Scorer` over any subset of users.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.engine import EASE, AlternatingLeastSquares, UserKNN, load_model
from recs.engine.als import IterationCallback
from recs.training.fit.ranking import FactorScorer, ItemWeightScorer, NeighbourScorer, Scorer
from recs.training.parameters import FitParameters

Family = Literal["als", "ease", "knn"]


def solver_threads(params: FitParameters) -> int:
    """Threads for the solver: the configured number, or every CPU this process may use."""
    if params.als_threads:
        return params.als_threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class FittedModel:
    """A fitted engine model and what scoring needs from it."""

    family: Family
    model: AlternatingLeastSquares | EASE | UserKNN

    @property
    def engine_params(self) -> dict[str, Any]:
        return dict(self.model.get_params())

    def scorer(
        self,
        users: npt.NDArray[np.integer[Any]],
        history: sp.csr_matrix,
        profile: sp.csr_matrix | None = None,
    ) -> Scorer:
        """Scores for ``users`` (rows of the training matrix).

        ``history`` holds their rows of the model's input (confidence); ``profile`` their
        recency weights (`recs.training.fit.signals.recency_profile`). With a profile, EASE scores
        the recency-weighted history, user-kNN looks for neighbours of the re-weighted history
        and ALS folds it into new user factors; without one, the model scores the history as it
        was fitted.
        """
        if isinstance(self.model, UserKNN):
            query = history if profile is None else sp.csr_matrix(history.multiply(profile), dtype=np.float32)
            query.sort_indices()
            return NeighbourScorer(self.model, query, np.asarray(users, dtype=np.int64))
        if isinstance(self.model, AlternatingLeastSquares):
            assert self.model.user_factors is not None
            assert self.model.item_factors is not None
            fitted = self.model.user_factors[users]
            if profile is None or not _weighs_anything(profile):
                return FactorScorer(fitted, self.model.item_factors)
            weighted = sp.csr_matrix(history.multiply(profile), dtype=np.float32)
            weighted.sort_indices()
            return FactorScorer(self.model.fold_in(weighted, start=fitted), self.model.item_factors)
        assert self.model.item_weights is not None
        return ItemWeightScorer(binary(history) if profile is None else profile, self.model.item_weights)

    def user_side(
        self, users: npt.NDArray[np.integer[Any]], history: sp.csr_matrix, profile: sp.csr_matrix
    ) -> dict[str, Any]:
        """What a publish shard needs to score ``users`` again: factors (ALS) or the profile (EASE)."""
        scorer = self.scorer(users, history, profile)
        if isinstance(scorer, FactorScorer):
            return {"user_factors": scorer.user_factors}
        if isinstance(scorer, NeighbourScorer):
            # The neighbours are the model's own rows (model/model.npz), read by the shard.
            return {"history": scorer.query}
        assert isinstance(scorer, ItemWeightScorer)
        return {"history": scorer.history}

    def to_bytes(self) -> bytes:
        """The engine's own ``.npz`` (no pickle)."""
        buffer = io.BytesIO()
        self.model.save(buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FittedModel:
        model = load_model(io.BytesIO(data))
        if isinstance(model, AlternatingLeastSquares):
            return cls("als", model)
        if isinstance(model, EASE):
            return cls("ease", model)
        if isinstance(model, UserKNN):
            return cls("knn", model)
        raise ValueError(f"unexpected model class in artifact: {type(model).__name__}")


def _weighs_anything(profile: sp.csr_matrix) -> bool:
    """False for an all-ones profile (recency off): the fitted factors already are the answer."""
    return bool(profile.nnz) and bool((profile.data != 1.0).any())


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The interaction pattern (EASE scores on who-saw-what, as it was fitted)."""
    pattern = matrix.copy()
    pattern.data = np.ones_like(pattern.data)
    return pattern


def make_model(family: Family, params: FitParameters) -> AlternatingLeastSquares | EASE | UserKNN:
    if family == "knn":
        return UserKNN(neighbours=params.knn_neighbours)
    if family == "ease":
        return EASE(l2=params.ease_l2, binarize=True, max_items=max(params.ease_max_items, 1))
    return AlternatingLeastSquares(
        factors=params.als_factors,
        regularization=params.als_regularization,
        alpha=params.als_alpha,
        iterations=params.als_iterations,
        cg_steps=params.als_cg_steps,
        confidence=params.als_confidence,
        epsilon=params.als_epsilon,
        random_state=params.random_seed,
        num_threads=solver_threads(params),
    )


def fit(
    family: Family,
    matrix: sp.csr_matrix,
    params: FitParameters,
    *,
    on_sweep: IterationCallback | None = None,
) -> FittedModel:
    """Fit ``family`` on a users x items confidence matrix; ``on_sweep(iteration, seconds)``
    after each ALS sweep (EASE is one solve, without sweeps)."""
    model = make_model(family, params)
    if isinstance(model, AlternatingLeastSquares):
        return FittedModel(family, model.fit(matrix, callback=on_sweep))
    return FittedModel(family, model.fit(matrix))


def with_factors(
    params: FitParameters, user_factors: npt.NDArray[np.float32], item_factors: npt.NDArray[np.float32]
) -> FittedModel:
    """An ALS model whose factors were fitted elsewhere (the Spark engine), with ``params``'s
    hyperparameters for what the model still computes itself (folding in recent profiles)."""
    if user_factors.ndim != 2 or item_factors.ndim != 2 or user_factors.shape[1] != item_factors.shape[1]:
        raise ValueError(f"factor shapes do not match: {user_factors.shape} and {item_factors.shape}")
    model = make_model("als", params)
    assert isinstance(model, AlternatingLeastSquares)
    model.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
    model.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
    return FittedModel("als", model)


def candidate_families(params: FitParameters, n_items: int, n_users: int = 0) -> list[Family]:
    """The families a run considers: the configured one, or for ``auto`` ALS (always), EASE when
    the catalog is small enough for its n² item-item matrix, and user neighbours when there are
    few enough users to compare each with all."""
    if params.model_family != "auto":
        return [params.model_family]
    families: list[Family] = ["als"]
    if 0 < n_items <= params.ease_max_items:
        families.append("ease")
    if 1 < n_users <= params.knn_max_users:
        families.append("knn")
    return families
