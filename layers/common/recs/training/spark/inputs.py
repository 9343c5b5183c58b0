"""The Spark job's input: a run's interactions aggregated to (user, item) -> summed decayed weight.

numpy only (Prepare runs without scipy). The values are those `recs.training.prepare.matrix.
confidence_matrix` sums into the numpy ALS's input, for the whole window (``full``) and for the
training part of the evaluation's split (``holdout``: every known user's last visit left out,
as `recs.training.evaluate.holdout.hold_out` does), so both engines see the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions
from recs.training.prepare.visits import last_visit_holdout
from recs.training.prepare.weights import interaction_weights


@dataclass(frozen=True)
class Aggregate:
    """One entry per (user, item) with a nonzero summed weight, sorted by user then item."""

    user: npt.NDArray[np.int32]
    item: npt.NDArray[np.int32]
    weight: npt.NDArray[np.float32]
    n_users: int
    n_items: int

    @property
    def entries(self) -> int:
        return int(self.user.size)

    def mean_entries_per_user(self) -> float:
        """Entries per user who has any (Spark scales each row's penalty by its entries)."""
        users = np.unique(self.user).size
        return self.entries / users if users else 1.0


def aggregate(
    interactions: Interactions,
    params: TrainingParameters,
    *,
    now_ts: float,
    mask: npt.NDArray[np.bool_] | None = None,
) -> Aggregate:
    """Summed decayed weights of the (masked) interactions per (user, item), zeros dropped."""
    values = interaction_weights(
        interactions, params.event_weights, now_ts=now_ts, half_life_days=params.half_life_days
    )
    users, items = interactions.user, interactions.item
    if mask is not None:
        values, users, items = values[mask], users[mask], items[mask]
    keys = users.astype(np.int64) * max(interactions.n_items, 1) + items.astype(np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=values.astype(np.float64), minlength=unique.size)
    weight = sums.astype(np.float32)
    kept = weight != 0
    unique = unique[kept]
    n_items = max(interactions.n_items, 1)
    return Aggregate(
        user=(unique // n_items).astype(np.int32),
        item=(unique % n_items).astype(np.int32),
        weight=weight[kept],
        n_users=interactions.n_users,
        n_items=interactions.n_items,
    )


def holdout_training_mask(interactions: Interactions, params: TrainingParameters) -> npt.NDArray[np.bool_]:
    """The training part of the evaluation's split (`recs.training.evaluate.holdout.hold_out`)."""
    everything = np.ones(len(interactions), dtype=np.bool_)
    held = last_visit_holdout(
        interactions, gap_minutes=params.visit_gap_minutes, fraction=params.holdout_fraction, mask=everything
    )
    return everything & ~held


def spark_regularization(regularization: float, part: Aggregate) -> float:
    """Spark's ``regParam`` for the numpy ALS's λ.

    Spark multiplies ``regParam`` by the number of entries of the row it solves (users and
    items alike); the numpy ALS applies λ as it is. Dividing by the mean entries per user gives
    the average user the numpy penalty.
    """
    return regularization / max(part.mean_entries_per_user(), 1.0)
