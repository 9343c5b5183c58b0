"""Item-based nearest neighbours on the confidence matrix (cosine), a strong simple recommender
and the source of 'similar items' for catalogs without enough signal for factors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


def cosine_item_similarity(matrix: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """items x items, each row keeping its `neighbours` most similar other items."""
    binary = matrix.copy().astype(np.float32)
    binary.data = np.log1p(binary.data)
    norms = np.sqrt(np.asarray(binary.multiply(binary).sum(axis=0)).ravel()) + 1e-9
    normalized = binary @ sp.diags(1.0 / norms).astype(np.float32)
    similarity = (normalized.T @ normalized).tocsr()
    similarity.setdiag(0)
    similarity.eliminate_zeros()
    return _keep_top(similarity, neighbours)


def _keep_top(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for row in range(matrix.shape[0]):
        start, stop = matrix.indptr[row], matrix.indptr[row + 1]
        if start == stop:
            continue
        data = matrix.data[start:stop]
        idx = matrix.indices[start:stop]
        top = np.argsort(-data, kind="stable")[:k]
        rows.extend([row] * len(top))
        cols.extend(idx[top].tolist())
        vals.extend(data[top].tolist())
    return sp.csr_matrix((np.asarray(vals, dtype=np.float32), (rows, cols)), shape=matrix.shape)


def score_users(
    matrix: sp.csr_matrix, similarity: sp.csr_matrix, users: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Dense scores for a block of users: their (log-damped) history times the neighbourhoods."""
    history = matrix[users].astype(np.float32)
    history.data = np.log1p(history.data)
    return np.asarray((history @ similarity).toarray(), dtype=np.float32)
