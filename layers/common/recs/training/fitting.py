"""Fit the personalized model of a run (ALS, or EASE for small catalogs) and score users with it.

The numerical engine lives in `recs.model`; this module turns the run's parameters into an
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

from recs.model import EASE, AlternatingLeastSquares, load_model
from recs.model.als import IterationCallback
from recs.training.parameters import TrainingParameters
from recs.training.ranking import FactorScorer, ItemWeightScorer, Scorer

Family = Literal["als", "ease"]


def solver_threads(params: TrainingParameters) -> int:
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
    model: AlternatingLeastSquares | EASE

    @property
    def engine_params(self) -> dict[str, Any]:
        return dict(self.model.get_params())

    def scorer(self, users: npt.NDArray[np.integer[Any]], history: sp.csr_matrix) -> Scorer:
        """Scores for ``users`` (rows of the training matrix); ``history`` holds their rows of it."""
        if isinstance(self.model, AlternatingLeastSquares):
            assert self.model.user_factors is not None
            assert self.model.item_factors is not None
            return FactorScorer(self.model.user_factors[users], self.model.item_factors)
        assert self.model.item_weights is not None
        return ItemWeightScorer(binary(history), self.model.item_weights)

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
        raise ValueError(f"unexpected model class in artifact: {type(model).__name__}")


def binary(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The interaction pattern (EASE scores on who-saw-what, as it was fitted)."""
    pattern = matrix.copy()
    pattern.data = np.ones_like(pattern.data)
    return pattern


def make_model(family: Family, params: TrainingParameters) -> AlternatingLeastSquares | EASE:
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
    params: TrainingParameters,
    *,
    on_sweep: IterationCallback | None = None,
) -> FittedModel:
    """Fit ``family`` on a users x items confidence matrix; ``on_sweep(iteration, seconds)``
    after each ALS sweep (EASE is one solve, without sweeps)."""
    model = make_model(family, params)
    if isinstance(model, AlternatingLeastSquares):
        return FittedModel(family, model.fit(matrix, callback=on_sweep))
    return FittedModel(family, model.fit(matrix))


def candidate_families(params: TrainingParameters, n_items: int) -> list[Family]:
    """The families a run considers: the configured one, or for ``auto`` ALS (always) and
    EASE when the catalog is small enough for its n² item-item matrix."""
    if params.model_family == "als":
        return ["als"]
    if params.model_family == "ease":
        return ["ease"]
    return ["als", "ease"] if 0 < n_items <= params.ease_max_items else ["als"]
