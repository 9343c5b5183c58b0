"""Confidence matrices from interactions: event weights, time decay, masks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.models.events import EventType
from recs.training.interactions import EVENT_CODES, Interactions

SECONDS_PER_DAY = 86_400.0


def event_weight_vector(weights: Mapping[str, float]) -> npt.NDArray[np.float32]:
    vector = np.zeros(len(EventType), dtype=np.float32)
    for name, code in EVENT_CODES.items():
        vector[code] = float(weights.get(name, 0.0))
    return vector


def interaction_weights(
    interactions: Interactions,
    weights: Mapping[str, float],
    *,
    now_ts: float,
    half_life_days: float | None,
) -> npt.NDArray[np.float32]:
    """Per-interaction weight: the event type's weight, halved every `half_life_days`."""
    values = event_weight_vector(weights)[interactions.event]
    if half_life_days:
        age_days = np.maximum(0.0, (now_ts - interactions.timestamp) / SECONDS_PER_DAY)
        values = values * np.exp2(-age_days / half_life_days).astype(np.float32)
    return values.astype(np.float32)


def confidence_matrix(
    interactions: Interactions,
    weights: Mapping[str, float],
    *,
    now_ts: float,
    half_life_days: float | None = None,
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """users x items, float32, summed weights of the (masked) interactions; zero-weight dropped."""
    values = interaction_weights(interactions, weights, now_ts=now_ts, half_life_days=half_life_days)
    rows, cols = interactions.user, interactions.item
    if mask is not None:
        values, rows, cols = values[mask], rows[mask], cols[mask]
    matrix = sp.csr_matrix(
        (values, (rows, cols)), shape=(interactions.n_users, interactions.n_items), dtype=np.float32
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix
