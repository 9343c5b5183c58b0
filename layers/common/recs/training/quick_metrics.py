"""Ranking metrics for the gate (binary relevance against a held-out CSR)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


def ranking_metrics(
    top: npt.NDArray[np.integer], relevant: sp.csr_matrix, n_items: int, k: int = 10
) -> dict[str, float]:
    top = top[:, :k]
    hits = np.zeros(top.shape, dtype=bool)
    for row in range(top.shape[0]):
        truth = relevant.indices[relevant.indptr[row] : relevant.indptr[row + 1]]
        hits[row] = np.isin(top[row], truth)
    n_relevant = np.diff(relevant.indptr)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts).sum(axis=1)
    ideal = np.array([discounts[: min(k, int(n))].sum() for n in n_relevant])
    return {
        f"precision@{k}": float(hits.sum(axis=1).mean() / k),
        f"recall@{k}": float((hits.sum(axis=1) / np.maximum(n_relevant, 1)).mean()),
        f"ndcg@{k}": float((dcg / np.maximum(ideal, 1e-12)).mean()),
        f"coverage@{k}": float(np.unique(top).size / max(n_items, 1)),
    }
