"""User-based nearest neighbours: what shoppers like you buy (the neighbour half of TIFU-KNN).

Hu et al. (SIGIR 2020, "Modeling Personalized Item Frequency Information for Next-basket
Recommendation") score a shopper's next basket as a blend of their own decayed purchase
frequencies and the mean vector of their k most similar shoppers. The own part lives in the
training package (`recs.training.fit.repurchase.own_history`, fused at ranking); this model is the
neighbour part: each user is the L2-normalized row of their (decayed, weighted) interactions,
neighbours are the ``neighbours`` users of highest cosine, and a product's score is the mean,
over those neighbours, of its share of their interactions.

Memory and time grow with the number of users (every scored user is compared with all of
them), so `recs.training.fit.fitting` only offers this family up to ``knn_max_users``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.base import JsonScalar, NotFittedError, Recommender
from recs.engine.checks import check_csr, check_ids
from recs.engine.similarity import similar_by_cooccurrence
from recs.engine.topk import ScoreBlock


def _row_normalized(matrix: Csr, order: int) -> Csr:
    """Rows scaled to unit L1 (order 1) or L2 (order 2) norm; empty rows stay empty."""
    values = matrix.data.astype(np.float64)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    norms = np.bincount(rows, weights=np.abs(values) if order == 1 else values**2, minlength=matrix.shape[0])
    norms = norms if order == 1 else np.sqrt(norms)
    scaled = sp.csr_matrix(
        (values / np.maximum(norms[rows], 1e-30), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    return sp.csr_matrix(scaled, dtype=np.float32)


class UserKNN(Recommender):
    """Mean interaction shares of each user's most similar users.

    Parameters
    ----------
    neighbours
        How many most similar users each score averages over.
    """

    model_name = "userknn"

    def __init__(self, neighbours: int = 100) -> None:
        if neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {neighbours}")
        self.neighbours = neighbours
        self.vectors: Csr | None = None
        self.shares: Csr | None = None

    def get_params(self) -> dict[str, JsonScalar]:
        """Hyperparameters as a JSON-serialisable dict."""
        return {"neighbours": self.neighbours}

    def _fitted(self) -> tuple[Csr, Csr]:
        if self.vectors is None or self.shares is None:
            raise NotFittedError("UserKNN is not fitted; call fit() first")
        return self.vectors, self.shares

    @property
    def n_items(self) -> int:
        """Number of items the fitted model scores."""
        return int(self._fitted()[0].shape[1])

    @property
    def n_users(self) -> int:
        """Number of users neighbours are drawn from."""
        return int(self._fitted()[0].shape[0])

    def fit(self, user_items: Csr) -> Self:
        """Keep each user's normalized row: unit L2 to compare users, unit L1 to average them.

        Parameters
        ----------
        user_items
            ``(n_users, n_items)`` float32 canonical CSR of interaction strengths.

        Returns
        -------
        Self
            The fitted model.
        """
        check_csr(user_items)
        self.vectors = _row_normalized(user_items, 2)
        self.shares = _row_normalized(user_items, 1)
        return self

    def neighbour_scores(self, query: Csr, self_rows: NDArray[np.integer[Any]] | None = None) -> FloatArray:
        """Dense ``(len(query), n_items)`` scores of query rows (never their own row as neighbour).

        Parameters
        ----------
        query
            Rows of interaction strengths over the fitted items (normalized here).
        self_rows
            The fitted row of each query row, left out of its neighbours (-1: none).
        """
        vectors, shares = self._fitted()
        check_csr(query, "query", (query.shape[0], vectors.shape[1]))
        similarity = np.asarray((_row_normalized(query, 2) @ vectors.T).toarray(), dtype=np.float32)
        if self_rows is not None:
            own = np.flatnonzero(self_rows >= 0)
            similarity[own, self_rows[own]] = -np.inf
        n_users = vectors.shape[0]
        k = min(self.neighbours, max(n_users - 1, 1))
        if k < n_users:
            nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        else:
            nearest = np.broadcast_to(np.arange(n_users), (query.shape[0], n_users))
        chosen = np.take_along_axis(similarity, nearest, axis=1)
        # Only users who share something with the query count as neighbours.
        weight = np.where(chosen > 0, np.float32(1.0 / k), np.float32(0.0))
        rows = np.repeat(np.arange(query.shape[0]), nearest.shape[1])
        mixing = sp.csr_matrix(
            (weight.ravel(), (rows, nearest.ravel())), shape=(query.shape[0], n_users), dtype=np.float32
        )
        return np.asarray((mixing @ shares).toarray(), dtype=np.float32)

    def _scorer(self, userids: IntArray, user_items: Csr, columns: IntArray | None) -> ScoreBlock:
        self_rows = np.where(userids < self.n_users, userids, -1).astype(np.int64)

        def score(start: int, stop: int) -> FloatArray:
            block = self.neighbour_scores(user_items[start:stop], self_rows[start:stop])
            return block if columns is None else np.ascontiguousarray(block[:, columns])

        return score

    def _n_rows_for_check(self) -> int:
        return self.n_users

    def similar_items(self, itemids: Any, n: int = 10) -> tuple[IntArray, FloatArray]:
        """Items bought by the same users (cosine of the items' user columns).

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
            ``(len(itemids), n)`` cosine similarities, ``-inf`` padded.
        """
        vectors, _ = self._fitted()
        items = check_ids(itemids, vectors.shape[1], "itemids")
        return similar_by_cooccurrence(vectors, n, itemids=items)

    def _arrays(self) -> dict[str, NDArray[Any]]:
        vectors, shares = self._fitted()
        return {
            "indptr": vectors.indptr,
            "indices": vectors.indices,
            "vector_values": vectors.data,
            "share_values": shares.data,
            "shape": np.array(vectors.shape, dtype=np.int64),
        }

    @classmethod
    def _from_arrays(cls, params: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> Self:
        model = cls(**params)
        shape = tuple(int(v) for v in arrays["shape"])
        pattern = (arrays["indices"], arrays["indptr"])
        model.vectors = sp.csr_matrix((arrays["vector_values"], *pattern), shape=shape, dtype=np.float32)
        model.shares = sp.csr_matrix((arrays["share_values"], *pattern), shape=shape, dtype=np.float32)
        return model
