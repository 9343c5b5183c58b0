"""Confidence matrices from interactions: event weights, time decay, masks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.contracts.events import EventType
from recs.training.prepare.interactions import EVENT_CODES, PURCHASE_CODE, Interactions

SECONDS_PER_DAY = 86_400.0


def event_weight_vector(weights: Mapping[str, float]) -> npt.NDArray[np.float32]:
    """Weight per event-type code; types without a weight count zero."""
    vector = np.zeros(len(EventType), dtype=np.float32)
    for name, code in EVENT_CODES.items():
        vector[code] = float(weights.get(name, 0.0))
    return vector


def interaction_weights(
    interactions: Interactions,
    weights: Mapping[str, float],
    *,
    now_ts: float,
    half_life_days: float,
) -> npt.NDArray[np.float32]:
    """Per-interaction weight: the event type's weight, times the events it stands for (its
    sample rate), halved every ``half_life_days`` before ``now_ts`` (0 = no decay). Events after
    ``now_ts`` are not amplified."""
    values = event_weight_vector(weights)[interactions.event]
    if interactions.weight is not None:
        values = values * interactions.weight
    if half_life_days > 0:
        age_days = np.maximum(0.0, (now_ts - interactions.timestamp) / SECONDS_PER_DAY)
        values = values * np.exp2(-age_days / half_life_days).astype(np.float32)
    return values.astype(np.float32)


def to_csr(
    interactions: Interactions,
    values: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """users x items float32 canonical CSR of summed ``values`` (zeros dropped)."""
    rows, cols = interactions.user, interactions.item
    if mask is not None:
        values, rows, cols = values[mask], rows[mask], cols[mask]
    matrix = sp.csr_matrix(
        (values.astype(np.float32), (rows, cols)),
        shape=(interactions.n_users, interactions.n_items),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    matrix.sort_indices()
    return matrix


def confidence_matrix(
    interactions: Interactions,
    weights: Mapping[str, float],
    *,
    now_ts: float,
    half_life_days: float = 0.0,
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """users x items, float32, summed (decayed) weights of the (masked) interactions."""
    values = interaction_weights(interactions, weights, now_ts=now_ts, half_life_days=half_life_days)
    return to_csr(interactions, values, mask)


def purchase_matrix(interactions: Interactions, mask: npt.NDArray[np.bool_] | None = None) -> sp.csr_matrix:
    """users x items count of purchase events (one per line of an order, whatever the quantity)."""
    purchases = interactions.event == PURCHASE_CODE
    if mask is not None:
        purchases &= mask
    return to_csr(interactions, np.ones(len(interactions), dtype=np.float32), purchases)
