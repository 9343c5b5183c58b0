"""Non-personalized lists: popular and trending per category, bought-together, item neighbours
from co-occurrence. Cheap, robust, and the fallbacks every personalized list is blended with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.interactions import ADD_TO_CART_CODE, PURCHASE_CODE, Interactions

Ranked = list[tuple[int, float]]


def top_indices(
    scores: npt.NDArray[np.floating], k: int, allowed: npt.NDArray[np.bool_] | None = None
) -> Ranked:
    """The k best positive scores (index, score), best first, ties broken by index."""
    values = np.asarray(scores, dtype=np.float64).copy()
    if allowed is not None:
        values[~allowed] = -np.inf
    candidates = np.flatnonzero(values > 0)
    if candidates.size == 0:
        return []
    order = candidates[np.lexsort((candidates, -values[candidates]))][:k]
    return [(int(i), float(values[i])) for i in order]


def popularity(matrix: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """Distinct users per item: robust to a few heavy users."""
    binary = matrix.copy()
    binary.data[:] = 1.0
    return np.asarray(binary.sum(axis=0)).ravel().astype(np.float64)


def trending(
    interactions: Interactions, weights: npt.NDArray[np.float32], now_ts: float, recent_days: float = 7.0
) -> npt.NDArray[np.float64]:
    """Recent weight relative to the item's longer-run rate (smoothed), favouring risers."""
    recent = interactions.timestamp >= now_ts - recent_days * 86_400.0
    n = interactions.n_items
    recent_w = np.bincount(interactions.item[recent], weights=weights[recent], minlength=n)
    total_w = np.bincount(interactions.item, weights=weights, minlength=n)
    span_days = (
        max(recent_days, (now_ts - float(interactions.timestamp.min())) / 86_400.0)
        if len(interactions)
        else 1
    )
    expected = total_w * (recent_days / span_days)
    return np.asarray(recent_w * (recent_w + 1.0) / (expected + 5.0), dtype=np.float64)


def per_category(
    scores: npt.NDArray[np.floating],
    categories: Sequence[str | None],
    k: int,
    available: npt.NDArray[np.bool_],
) -> dict[str, Ranked]:
    by_category: dict[str, Ranked] = {}
    labels = np.array([c or "" for c in categories], dtype=object)
    for category in sorted({c for c in categories if c}):
        by_category[category] = top_indices(scores, k, available & (labels == category))
    return by_category


def bought_together(
    interactions: Interactions, k: int, available: npt.NDArray[np.bool_]
) -> dict[int, Ranked]:
    """Products added to the same cart or bought in the same session, by lift-damped count."""
    mask = ((interactions.event == PURCHASE_CODE) | (interactions.event == ADD_TO_CART_CODE)) & (
        interactions.basket >= 0
    )
    if not mask.any():
        return {}
    baskets = interactions.basket[mask]
    _, basket_ids = np.unique(baskets, return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float32), (basket_ids, interactions.item[mask])),
        shape=(int(basket_ids.max()) + 1, interactions.n_items),
    )
    incidence.data[:] = 1.0
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    co = (incidence.T @ incidence).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    counts = np.asarray(incidence.sum(axis=0)).ravel()
    result: dict[int, Ranked] = {}
    for item in range(interactions.n_items):
        start, stop = co.indptr[item], co.indptr[item + 1]
        if start == stop:
            continue
        neighbours = co.indices[start:stop]
        # Co-count damped by the neighbour's popularity, so best-sellers do not pair with everything.
        scores = co.data[start:stop] / np.sqrt(counts[neighbours] + 1.0)
        keep = available[neighbours] & (co.data[start:stop] >= 1)
        order = np.lexsort((neighbours[keep], -scores[keep]))[:k]
        result[item] = [(int(neighbours[keep][i]), float(scores[keep][i])) for i in order]
    return result
