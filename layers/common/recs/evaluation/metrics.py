"""Ranking metrics, vectorised over users.

Every metric takes the top-K id arrays a model produced (one row per evaluated user,
best first, ``-1`` padded) and the held-out interactions as a CSR over the same
index space. Relevance is binary: a held-out (user, item) pair is relevant.
Users without held-out items carry no signal and are left out of every average.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recs.engine._typing import BoolArray, Csr, IndexArray
from recs.engine.checks import check_csr


def _rows(heldout: Csr, users: IndexArray | None, n_rows: int) -> NDArray[np.int64]:
    if users is None:
        if n_rows != heldout.shape[0]:
            raise ValueError(
                f"topk_ids has {n_rows} rows but heldout has {heldout.shape[0]}; pass users= to align them"
            )
        return np.arange(n_rows, dtype=np.int64)
    rows = np.asarray(users, dtype=np.int64)
    if rows.shape != (n_rows,):
        raise ValueError(f"users must have shape ({n_rows},), got {rows.shape}")
    if rows.size and (rows.min() < 0 or rows.max() >= heldout.shape[0]):
        raise ValueError("users contains ids outside the heldout matrix")
    return rows


def hit_matrix(topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None) -> BoolArray:
    """``hits[j, r]`` is True when the rank-``r`` item of row ``j`` is held out for its user.

    Parameters
    ----------
    topk_ids
        ``(n, >= k)`` recommended item ids, best first; ``-1`` marks padding.
    heldout
        ``(n_users, n_items)`` canonical CSR of held-out interactions.
    k
        Cut-off; only the first ``k`` columns are looked at.
    users
        Row of ``heldout`` for each row of ``topk_ids``; defaults to ``0..n-1``.

    Returns
    -------
    BoolArray
        ``(n, k)`` hit indicator.
    """
    check_csr(heldout, "heldout")
    ids = np.asarray(topk_ids)
    if ids.ndim != 2 or ids.shape[1] < k or k < 1:
        raise ValueError(f"topk_ids must be 2-D with at least k={k} columns, got shape {ids.shape}")
    ids = ids[:, :k].astype(np.int64)
    rows = _rows(heldout, users, ids.shape[0])
    n_items = heldout.shape[1]
    if heldout.nnz == 0:
        return np.zeros(ids.shape, dtype=np.bool_)
    # Canonical CSR => keys user * n_items + item are globally sorted: one searchsorted answers all.
    keys = np.repeat(np.arange(heldout.shape[0], dtype=np.int64), np.diff(heldout.indptr)) * n_items
    keys += heldout.indices
    queries = rows[:, None] * n_items + ids
    found = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    # Padding (-1) could alias the previous user's last item, hence the ids >= 0 guard.
    hits: BoolArray = (ids >= 0) & (keys[found] == queries)
    return hits


def _relevant_counts(heldout: Csr, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    counts: NDArray[np.int64] = np.diff(heldout.indptr).astype(np.int64)[rows]
    return counts


def _evaluated_hits(
    topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None
) -> tuple[BoolArray, NDArray[np.int64]]:
    """The hit rows and relevant counts of the users with held-out items (the only ones averaged)."""
    hits = hit_matrix(topk_ids, heldout, k, users)
    rel = _relevant_counts(heldout, _rows(heldout, users, hits.shape[0]))
    mask = rel > 0
    return hits[mask], rel[mask]


def _precision(hits: BoolArray, k: int) -> float:
    return float(hits.sum(axis=1).mean() / k) if len(hits) else float("nan")


def _recall(hits: BoolArray, rel: NDArray[np.int64]) -> float:
    return float((hits.sum(axis=1) / rel).mean()) if len(hits) else float("nan")


def _ndcg_values(hits: BoolArray, rel: NDArray[np.int64], k: int) -> NDArray[np.float64]:
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(rel, k)]
    values: NDArray[np.float64] = (dcg / ideal).astype(np.float64)
    return values


def _ndcg(hits: BoolArray, rel: NDArray[np.int64], k: int) -> float:
    return float(_ndcg_values(hits, rel, k).mean()) if len(hits) else float("nan")


def precision_at_k(topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None) -> float:
    """Mean over users with held-out items of ``hits@k / k``.

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``.

    Returns
    -------
    float
        Precision@k in ``[0, 1]``; ``nan`` when no user has held-out items.
    """
    hits, _ = _evaluated_hits(topk_ids, heldout, k, users)
    return _precision(hits, k)


def recall_at_k(topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None) -> float:
    """Mean over users with held-out items of ``hits@k / |relevant|``.

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``.

    Returns
    -------
    float
        Recall@k in ``[0, 1]``; ``nan`` when no user has held-out items.
    """
    hits, rel = _evaluated_hits(topk_ids, heldout, k, users)
    return _recall(hits, rel)


def ndcg_per_user(
    topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None
) -> NDArray[np.float64]:
    """Binary-relevance NDCG@k of each user with held-out items, in row order.

    ``DCG = Σ_r hit_r / log2(r + 2)``; the ideal DCG places ``min(k, |relevant|)`` hits
    at the top ranks. Two methods evaluated on the same held-out matrix and users give
    arrays aligned user by user (what a paired comparison needs).

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``.

    Returns
    -------
    NDArray[np.float64]
        One value in ``[0, 1]`` per user with held-out items (empty when there are none).
    """
    hits, rel = _evaluated_hits(topk_ids, heldout, k, users)
    return _ndcg_values(hits, rel, k)


def graded_ndcg_per_user(
    topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None
) -> NDArray[np.float64]:
    """NDCG@k of each user with held-out items, the stored values of ``heldout`` as gains.

    ``DCG = Σ_r gain_r / log2(r + 2)``, the ideal DCG placing the user's largest gains first.
    With every stored value 1 this is `ndcg_per_user`. Gains let a held-out purchase count
    more than a held-out view (the shop's event weights).

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``; ``heldout`` values must be > 0.

    Returns
    -------
    NDArray[np.float64]
        One value in ``[0, 1]`` per user with held-out items, in row order.
    """
    check_csr(heldout, "heldout")
    ids = np.asarray(topk_ids)
    if ids.ndim != 2 or ids.shape[1] < k or k < 1:
        raise ValueError(f"topk_ids must be 2-D with at least k={k} columns, got shape {ids.shape}")
    ids = ids[:, :k].astype(np.int64)
    rows = _rows(heldout, users, ids.shape[0])
    counts = _relevant_counts(heldout, rows)
    keep = counts > 0
    ids, rows = ids[keep], rows[keep]
    if rows.size == 0:
        return np.zeros(0, dtype=np.float64)
    n_items = heldout.shape[1]
    keys = np.repeat(np.arange(heldout.shape[0], dtype=np.int64), np.diff(heldout.indptr)) * n_items
    keys += heldout.indices
    queries = rows[:, None] * n_items + ids
    found = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    hit = (ids >= 0) & (keys[found] == queries)
    gains = np.where(hit, heldout.data[found], 0.0)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = gains @ discounts
    # Ideal: each user's gains, largest first, on the first k ranks.
    entry_row = np.repeat(np.arange(heldout.shape[0], dtype=np.int64), np.diff(heldout.indptr))
    order = np.lexsort((-heldout.data, entry_row))
    rank = np.arange(order.size) - heldout.indptr[entry_row[order]]
    top = rank < k
    ideal_of_row = np.bincount(
        entry_row[order][top],
        weights=heldout.data[order][top] * discounts[rank[top]],
        minlength=heldout.shape[0],
    )
    values: NDArray[np.float64] = dcg / ideal_of_row[rows]
    return values


def ndcg_at_k(topk_ids: IndexArray, heldout: Csr, k: int, users: IndexArray | None = None) -> float:
    """Mean binary-relevance NDCG@k over users with held-out items (see ``ndcg_per_user``).

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``.

    Returns
    -------
    float
        NDCG@k in ``[0, 1]``; ``nan`` when no user has held-out items.
    """
    hits, rel = _evaluated_hits(topk_ids, heldout, k, users)
    return _ndcg(hits, rel, k)


def coverage_at_k(topk_ids: IndexArray, n_items: int, k: int) -> float:
    """Fraction of the catalog that appears in at least one user's top-``k``.

    Parameters
    ----------
    topk_ids
        ``(n, >= k)`` recommended ids, ``-1`` padded.
    n_items
        Catalog size.
    k
        Cut-off.

    Returns
    -------
    float
        Catalog coverage in ``[0, 1]``.
    """
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    ids = np.asarray(topk_ids)[:, :k].ravel()
    ids = ids[ids >= 0]
    if ids.size and ids.max() >= n_items:
        raise ValueError(f"topk_ids contains ids >= n_items={n_items}")
    return float(np.unique(ids).size / n_items)


@dataclass(frozen=True)
class RankingReport:
    """Metrics at one cut-off, averaged over the users that have held-out items.

    Attributes
    ----------
    k
        Cut-off.
    precision, recall, ndcg
        Means over evaluated users.
    coverage
        Catalog coverage of the evaluated users' lists.
    users
        Number of users with held-out items.
    """

    k: int
    precision: float
    recall: float
    ndcg: float
    coverage: float
    users: int

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, ready for ``json.dumps``."""
        return asdict(self)


def evaluate_topk(
    topk_ids: IndexArray, heldout: Csr, k: int = 10, users: IndexArray | None = None
) -> RankingReport:
    """Precision, recall, NDCG and coverage at ``k`` in one pass over the hits.

    Parameters
    ----------
    topk_ids, heldout, k, users
        See ``hit_matrix``. Coverage counts the lists of the users that have held-out
        items, the same users every other metric averages over.

    Returns
    -------
    RankingReport
        All four metrics and the number of evaluated users.
    """
    rows = _rows(heldout, users, np.asarray(topk_ids).shape[0])
    rel = _relevant_counts(heldout, rows)
    mask = rel > 0
    if not mask.any():
        nan = float("nan")
        return RankingReport(k, nan, nan, nan, nan, 0)
    # One hit matrix for all three ranking metrics.
    hits, rel = hit_matrix(topk_ids, heldout, k, users)[mask], rel[mask]
    return RankingReport(
        k=k,
        precision=_precision(hits, k),
        recall=_recall(hits, rel),
        ndcg=_ndcg(hits, rel, k),
        coverage=coverage_at_k(np.asarray(topk_ids)[mask], heldout.shape[1], k),
        users=len(hits),
    )
