"""Non-personalized lists: popular and trending (overall and per category), bought together,
and similar items. Cheap, robust, and what serving falls back on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.model.similarity import similar_by_cooccurrence
from recs.training.interactions import ADD_TO_CART_CODE, PURCHASE_CODE, Interactions
from recs.training.matrix import SECONDS_PER_DAY

Ranked = list[tuple[int, float]]

#: Damps the trending ratio of rarely seen items (a product with 1 recent view is not trending).
TRENDING_PRIOR = 5.0


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
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)


def trending(
    interactions: Interactions, weights: npt.NDArray[np.float32], now_ts: float, recent_days: float
) -> npt.NDArray[np.float64]:
    """Recent weight relative to the item's longer-run rate (smoothed), favouring risers."""
    n = interactions.n_items
    if len(interactions) == 0:
        return np.zeros(n, dtype=np.float64)
    recent = interactions.timestamp >= now_ts - recent_days * SECONDS_PER_DAY
    recent_w = np.bincount(interactions.item[recent], weights=weights[recent], minlength=n)
    total_w = np.bincount(interactions.item, weights=weights, minlength=n)
    span_days = max(recent_days, (now_ts - float(interactions.timestamp.min())) / SECONDS_PER_DAY)
    expected = total_w * (recent_days / span_days)
    return np.asarray(recent_w * (recent_w + 1.0) / (expected + TRENDING_PRIOR), dtype=np.float64)


def per_category(
    scores: npt.NDArray[np.floating],
    categories: Sequence[str | None],
    k: int,
    available: npt.NDArray[np.bool_],
) -> dict[str, Ranked]:
    """The top ``k`` of ``scores`` within each category."""
    labels = np.array([c or "" for c in categories], dtype=object)
    return {
        category: ranked
        for category in sorted({c for c in categories if c})
        if (ranked := top_indices(scores, k, available & (labels == category)))
    }


def bought_together(
    interactions: Interactions, k: int, available: npt.NDArray[np.bool_]
) -> dict[int, Ranked]:
    """Products added to the same cart or bought in the same session, by popularity-damped count."""
    mask = ((interactions.event == PURCHASE_CODE) | (interactions.event == ADD_TO_CART_CODE)) & (
        interactions.basket >= 0
    )
    if not mask.any():
        return {}
    _, basket_ids = np.unique(interactions.basket[mask], return_inverse=True)
    incidence = sp.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float32), (basket_ids, interactions.item[mask])),
        shape=(int(basket_ids.max()) + 1, interactions.n_items),
    )
    incidence.sum_duplicates()
    incidence.data[:] = 1.0
    co = (incidence.T @ incidence).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    co.sort_indices()
    counts = np.asarray(incidence.sum(axis=0)).ravel()
    result: dict[int, Ranked] = {}
    for item in range(interactions.n_items):
        start, stop = co.indptr[item], co.indptr[item + 1]
        if start == stop:
            continue
        neighbours = co.indices[start:stop]
        # Co-count damped by the neighbour's popularity, so best-sellers do not pair with everything.
        scores = co.data[start:stop] / np.sqrt(counts[neighbours] + 1.0)
        keep = available[neighbours]
        order = np.lexsort((neighbours[keep], -scores[keep]))[:k]
        if order.size:
            result[item] = [(int(neighbours[keep][i]), float(scores[keep][i])) for i in order]
    return result


def similar_items(
    confidence: sp.csr_matrix,
    model_neighbours: tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]],
    k: int,
    available: npt.NDArray[np.bool_],
    *,
    min_count: int = 2,
) -> dict[int, Ranked]:
    """Items shoppers interacted with together (cosine of co-occurrence, at least ``min_count``
    shared shoppers), then the model's nearest neighbours to fill up to ``k``.

    Co-occurrence is what "people who viewed this also viewed" means and is exact for items
    with data; the model's neighbours generalize for items with little of it. Filled
    neighbours score below every co-occurrence neighbour of the same list, so the order holds.
    """
    n_items = confidence.shape[1]
    # Twice k leaves room for unavailable neighbours without an n_items-wide result.
    wanted = min(2 * k, max(n_items - 1, 1))
    co_ids, co_scores = similar_by_cooccurrence(confidence, wanted, min_count=min_count)
    model_ids, model_scores = model_neighbours
    result: dict[int, Ranked] = {}
    for item in range(n_items):
        ranked: Ranked = []
        seen: set[int] = set()
        for other, score in zip(co_ids[item].tolist(), co_scores[item].tolist(), strict=True):
            if other >= 0 and available[other] and len(ranked) < k:
                ranked.append((other, float(score)))
                seen.add(other)
        floor = ranked[-1][1] if ranked else 1.0
        for other, score in zip(model_ids[item].tolist(), model_scores[item].tolist(), strict=True):
            if len(ranked) >= k:
                break
            if other >= 0 and available[other] and other not in seen and score > 0:
                # Keep filled neighbours below the co-occurrence ones, in the model's order.
                ranked.append((other, float(floor * score / (1.0 + score))))
                seen.add(other)
        if ranked:
            result[item] = ranked
    return result
