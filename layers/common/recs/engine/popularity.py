"""Popularity baseline: every user gets the most popular items they have not seen."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.base import JsonScalar, NotFittedError, Recommender
from recs.engine.checks import check_csr, check_ids
from recs.engine.topk import ScoreBlock, select_topk


class Popularity(Recommender):
    """Score items by how many users interacted with them (or by summed strength).

    Parameters
    ----------
    weighted
        Sum the interaction strengths instead of counting distinct users.
    """

    model_name = "popularity"

    def __init__(self, weighted: bool = False) -> None:
        self.weighted = weighted
        self.item_scores: FloatArray | None = None

    def get_params(self) -> dict[str, JsonScalar]:
        """Hyperparameters as a JSON-serialisable dict."""
        return {"weighted": self.weighted}

    def _scores(self) -> FloatArray:
        if self.item_scores is None:
            raise NotFittedError("Popularity is not fitted; call fit() first")
        return self.item_scores

    @property
    def n_items(self) -> int:
        """Number of items the fitted model scores."""
        return int(self._scores().shape[0])

    def fit(self, user_items: Csr) -> Self:
        """Count (or sum) interactions per item.

        Parameters
        ----------
        user_items
            ``(n_users, n_items)`` float32 canonical CSR.

        Returns
        -------
        Self
            The fitted model.
        """
        check_csr(user_items)
        if self.weighted:
            scores = np.asarray(user_items.sum(axis=0)).ravel()
        else:
            scores = np.bincount(user_items.indices, minlength=user_items.shape[1])
        self.item_scores = scores.astype(np.float32)
        return self

    def _scorer(self, userids: IntArray, user_items: Csr, columns: IntArray | None) -> ScoreBlock:
        scores = self._scores()
        candidates = scores if columns is None else scores[columns]

        def score(start: int, stop: int) -> FloatArray:
            return np.tile(candidates, (stop - start, 1))

        return score

    def similar_items(self, itemids: Any, n: int = 10) -> tuple[IntArray, FloatArray]:
        """The most popular other items, the same for every query (a baseline).

        Parameters
        ----------
        itemids
            Item index or indices.
        n
            Items per query.

        Returns
        -------
        ids : IntArray
            ``(len(itemids), n)`` ids, ``-1`` padded.
        scores : FloatArray
            ``(len(itemids), n)`` popularity scores, ``-inf`` padded.
        """
        scores = self._scores()
        items = check_ids(itemids, scores.shape[0], "itemids")
        rows = np.tile(scores, (len(items), 1))
        rows[np.arange(len(items)), items] = -np.inf
        return select_topk(rows, n)

    def _arrays(self) -> dict[str, NDArray[Any]]:
        return {"item_scores": self._scores()}

    @classmethod
    def _from_arrays(cls, params: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> Self:
        model = cls(**params)
        model.item_scores = arrays["item_scores"].astype(np.float32, copy=False)
        return model
