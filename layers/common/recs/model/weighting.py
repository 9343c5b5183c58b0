"""Optional re-weighting of the interaction matrix before a model sees it.

ALS turns strengths into confidence linearly (``c = 1 + alpha * w``). These helpers
change what ``w`` is: BM25 damps heavy users and boosts rare items (the weighting
benfred/implicit recommends for its nearest-neighbour and ALS models); log scaling
damps repeated interactions. Both return a new canonical float32 CSR.
"""

from __future__ import annotations

import numpy as np

from recs.model._typing import Csr
from recs.model.checks import check_csr, check_positive


def bm25_weight(user_items: Csr, k1: float = 100.0, b: float = 0.8) -> Csr:
    """Okapi BM25 weighting with items as terms and users as documents.

    ``w' = w (k1 + 1) / (w + k1 (1 - b + b |u| / avg|u|)) * idf(i)`` with
    ``idf(i) = log(n_users / n_i)``.

    Parameters
    ----------
    user_items
        ``(n_users, n_items)`` float32 canonical CSR.
    k1
        Term-frequency saturation.
    b
        Length normalisation in ``[0, 1]``.

    Returns
    -------
    Csr
        Re-weighted copy with the same sparsity.
    """
    check_csr(user_items)
    check_positive(k1, "k1")
    if not 0.0 <= b <= 1.0:
        raise ValueError(f"b must be in [0, 1], got {b}")
    out = user_items.copy()
    n_users = out.shape[0]
    item_users = np.bincount(out.indices, minlength=out.shape[1]).astype(np.float64)
    idf = np.log(n_users / np.maximum(item_users, 1.0))
    lengths = np.diff(out.indptr).astype(np.float64)
    norm = k1 * (1.0 - b + b * lengths / max(lengths.mean(), 1e-12))
    row_norm = np.repeat(norm, np.diff(out.indptr))
    w = out.data.astype(np.float64)
    # Items every user has get idf 0; clip so rounding never yields a negative strength.
    weighted = w * (k1 + 1.0) / (w + row_norm) * np.maximum(idf[out.indices], 0.0)
    out.data = weighted.astype(np.float32)
    return out


def log_scale(user_items: Csr, epsilon: float = 1.0) -> Csr:
    """``w' = log(1 + w / epsilon)``: repeated interactions count less than linearly.

    Parameters
    ----------
    user_items
        ``(n_users, n_items)`` float32 canonical CSR.
    epsilon
        Scale at which the logarithm starts to bend.

    Returns
    -------
    Csr
        Re-weighted copy with the same sparsity.
    """
    check_csr(user_items)
    check_positive(epsilon, "epsilon")
    out = user_items.copy()
    out.data = np.log1p(out.data / np.float32(epsilon)).astype(np.float32)
    return out
