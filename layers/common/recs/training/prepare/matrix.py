"""Confidence matrices from interactions: event weights, time decay, masks."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.prepare.interactions import PURCHASE_CODE, Interactions
from recs.training.prepare.weights import SECONDS_PER_DAY, interaction_weights

__all__ = ["SECONDS_PER_DAY", "confidence_matrix", "purchase_matrix", "to_csr"]


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
