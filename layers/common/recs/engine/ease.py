"""EASE (Steck 2019): a closed-form item-item linear model.

``B = argmin ||X - XB||² + λ||B||²  s.t. diag(B) = 0`` has the solution
``P = (XᵀX + λI)⁻¹``, ``B_ij = -P_ij / P_jj`` (``B_jj = 0``). Scores are ``x_u B``.
Cost is one dense ``n_items x n_items`` inverse, so it is meant for catalogs up to
about 20k items (a 20k float32 matrix is 1.6 GB and ~10¹³ flops); ALS stays the
scalable default.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.base import JsonScalar, NotFittedError, Recommender
from recs.engine.checks import check_csr, check_ids, check_positive
from recs.engine.topk import ScoreBlock, select_topk

MAX_ITEMS = 20_000


def gram_matrix(user_items: Csr, block_nnz: int = 1 << 20) -> FloatArray:
    """Dense float32 ``XᵀX``, accumulated over user blocks to bound the sparse temporaries.

    Parameters
    ----------
    user_items
        ``(n_users, n_items)`` CSR.
    block_nnz
        Approximate nonzeros of ``X`` per block.

    Returns
    -------
    FloatArray
        ``(n_items, n_items)`` Gram matrix.
    """
    n_users, n_items = user_items.shape
    gram = np.zeros((n_items, n_items), np.float32)
    indptr = user_items.indptr
    start = 0
    while start < n_users:
        stop = max(int(np.searchsorted(indptr, indptr[start] + block_nnz, side="right")) - 1, start + 1)
        stop = min(stop, n_users)
        block = user_items[start:stop]
        product = (block.T @ block).tocoo()
        # A canonical product has no duplicate (row, col), so plain fancy += is exact.
        gram[product.row, product.col] += product.data
        start = stop
    return gram


def _spd_inverse_in_place(matrix: FloatArray) -> FloatArray:
    """Invert a symmetric positive definite float32 matrix inside its own buffer.

    LAPACK wants column-major data; the transpose of a C-ordered symmetric matrix is a
    column-major view of the same memory, so Cholesky (``spotrf``) and the inverse from
    it (``spotri``) run without any n x n copy. LAPACK's lower triangle of that view is
    our upper triangle, mirrored afterwards in blocks (index arrays for a whole
    20k x 20k triangle would take gigabytes).
    """
    n = matrix.shape[0]
    factor, info = scipy.linalg.lapack.spotrf(matrix.T, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise ValueError(f"XᵀX + λI is not positive definite (LAPACK info={info}); increase l2")
    inverse_t, info = scipy.linalg.lapack.spotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise ValueError(f"inverting XᵀX + λI failed (LAPACK info={info})")
    inverse: FloatArray = np.ascontiguousarray(inverse_t.T)
    step = 1024
    for start in range(0, n, step):
        stop = min(start + step, n)
        inverse[stop:, start:stop] = inverse[start:stop, stop:].T
        block = inverse[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        block[lower] = block.T[lower]
    return inverse


class EASE(Recommender):
    """Embarrassingly Shallow Autoencoder for implicit feedback.

    Parameters
    ----------
    l2
        Ridge penalty λ added to the diagonal of ``XᵀX``.
    binarize
        Fit on the 0/1 pattern (as in the paper) rather than the weighted strengths.
    max_items
        Refuse catalogs larger than this, because memory grows with ``n_items²``.
    """

    model_name = "ease"

    def __init__(self, l2: float = 200.0, binarize: bool = True, max_items: int = MAX_ITEMS) -> None:
        check_positive(l2, "l2")
        self.l2 = l2
        self.binarize = binarize
        self.max_items = max_items
        self.item_weights: FloatArray | None = None

    def get_params(self) -> dict[str, JsonScalar]:
        """Hyperparameters as a JSON-serialisable dict."""
        return {"l2": self.l2, "binarize": self.binarize, "max_items": self.max_items}

    def _weights(self) -> FloatArray:
        if self.item_weights is None:
            raise NotFittedError("EASE is not fitted; call fit() first")
        return self.item_weights

    @property
    def n_items(self) -> int:
        """Number of items the fitted model scores."""
        return int(self._weights().shape[0])

    def _input(self, user_items: Csr) -> Csr:
        if not self.binarize:
            return user_items
        binary = user_items.copy()
        binary.data = np.ones_like(binary.data)
        return binary

    def fit(self, user_items: Csr) -> Self:
        """Compute the item-item weight matrix ``B`` in closed form.

        Parameters
        ----------
        user_items
            ``(n_users, n_items)`` float32 canonical CSR.

        Returns
        -------
        Self
            The fitted model.

        Raises
        ------
        ValueError
            If the catalog exceeds ``max_items``.
        """
        check_csr(user_items)
        n_items = user_items.shape[1]
        if n_items > self.max_items:
            raise ValueError(
                f"EASE needs n_items² memory; {n_items} items exceeds max_items={self.max_items}"
            )
        gram = gram_matrix(self._input(user_items))
        gram[np.diag_indices(n_items)] += np.float32(self.l2)
        inverse = _spd_inverse_in_place(gram)
        diag = inverse.diagonal().copy()
        inverse /= -diag[None, :]
        inverse[np.diag_indices(n_items)] = 0.0
        self.item_weights = inverse
        return self

    def _scorer(self, userids: IntArray, user_items: Csr, columns: IntArray | None) -> ScoreBlock:
        weights = self._weights()
        candidates = weights if columns is None else np.ascontiguousarray(weights[:, columns])
        history = self._input(user_items)

        def score(start: int, stop: int) -> FloatArray:
            return np.asarray(history[start:stop] @ candidates, dtype=np.float32)

        return score

    def similar_items(self, itemids: Any, n: int = 10) -> tuple[IntArray, FloatArray]:
        """Items whose presence most raises the score of each query item's neighbours.

        Uses row ``i`` of ``B`` (how much having item ``i`` adds to each other item's
        score); the diagonal is zero by construction and excluded explicitly.

        Parameters
        ----------
        itemids
            Item index or indices.
        n
            Neighbours per item.

        Returns
        -------
        ids : IntArray
            ``(len(itemids), n)`` neighbour ids, ``-1`` padded.
        scores : FloatArray
            ``(len(itemids), n)`` EASE weights, ``-inf`` padded.
        """
        weights = self._weights()
        items = check_ids(itemids, weights.shape[0], "itemids")
        rows = weights[items].copy()
        rows[np.arange(len(items)), items] = -np.inf
        return select_topk(rows, n)

    def _arrays(self) -> dict[str, NDArray[Any]]:
        return {"item_weights": self._weights()}

    @classmethod
    def _from_arrays(cls, params: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> Self:
        model = cls(**params)
        model.item_weights = arrays["item_weights"].astype(np.float32, copy=False)
        return model
