"""Top-K lists for a block of users, with bounded memory, exclusions and the buy-again signal.

Scores come from a `Scorer` (ALS factors, EASE weights or popularity), one block of users at a
time, only over the items that may be recommended; the buy-again signal is fused into the same
block before selection, so a repurchase competes with the model's suggestions on one scale:

    score = model score / the user's best model score + buy_again_weight * buy-again score

Selection is `recs.engine.topk.topk_blockwise`, which also removes each user's excluded items
(purchases of products that are not bought again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.contracts.recommendations import Reason
from recs.engine.neighbours import UserKNN
from recs.engine.topk import candidate_columns, topk_blockwise

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
_TINY = np.float32(1e-6)


class Scorer(Protocol):
    """Dense scores of a block of users over some item columns."""

    @property
    def n_rows(self) -> int: ...

    @property
    def n_items(self) -> int: ...

    @property
    def reason(self) -> Reason: ...

    def scores(self, start: int, stop: int, columns: IntArray | None) -> FloatArray: ...


@dataclass(frozen=True)
class FactorScorer:
    """score = user factors . item factors (ALS)."""

    user_factors: FloatArray
    item_factors: FloatArray

    @property
    def n_rows(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    @property
    def reason(self) -> Reason:
        return Reason.SIMILAR_USERS

    def scores(self, start: int, stop: int, columns: IntArray | None) -> FloatArray:
        items = self.item_factors if columns is None else self.item_factors[columns]
        return np.asarray(self.user_factors[start:stop] @ items.T, dtype=np.float32)


@dataclass(frozen=True)
class ItemWeightScorer:
    """score = history . B (EASE: a weighted sum over the items the user interacted with)."""

    history: sp.csr_matrix
    item_weights: FloatArray

    @property
    def n_rows(self) -> int:
        return int(self.history.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_weights.shape[0])

    @property
    def reason(self) -> Reason:
        return Reason.SIMILAR_ITEMS

    def scores(self, start: int, stop: int, columns: IntArray | None) -> FloatArray:
        weights = self.item_weights if columns is None else self.item_weights[:, columns]
        return np.asarray(self.history[start:stop] @ weights, dtype=np.float32)


@dataclass(frozen=True)
class NeighbourScorer:
    """score = mean interaction shares of the user's nearest users (`recs.engine.UserKNN`)."""

    model: UserKNN
    query: sp.csr_matrix
    self_rows: npt.NDArray[np.int64]

    #: Rows compared with every user at once (bounds the dense similarity block).
    chunk_rows: ClassVar[int] = 256

    @property
    def n_rows(self) -> int:
        return int(self.query.shape[0])

    @property
    def n_items(self) -> int:
        return self.model.n_items

    @property
    def reason(self) -> Reason:
        return Reason.SIMILAR_USERS

    def scores(self, start: int, stop: int, columns: IntArray | None) -> FloatArray:
        parts = []
        for first in range(start, stop, self.chunk_rows):
            last = min(first + self.chunk_rows, stop)
            block = self.model.neighbour_scores(self.query[first:last], self.self_rows[first:last])
            parts.append(block if columns is None else block[:, columns])
        if not parts:
            return np.zeros((0, self.n_items if columns is None else columns.size), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)


@dataclass(frozen=True)
class PopularityScorer:
    """The same item scores for every user (the baseline)."""

    item_scores: FloatArray
    rows: int

    @property
    def n_rows(self) -> int:
        return self.rows

    @property
    def n_items(self) -> int:
        return int(self.item_scores.shape[0])

    @property
    def reason(self) -> Reason:
        return Reason.POPULAR

    def scores(self, start: int, stop: int, columns: IntArray | None) -> FloatArray:
        values = self.item_scores if columns is None else self.item_scores[columns]
        return np.tile(values.astype(np.float32), (stop - start, 1))


@dataclass(frozen=True)
class RankedLists:
    """``ids``/``scores``: (users, k), -1 / -inf padded; ``buy_again``: the item is a product
    the user bought before and people buy again (its reason is ``buy-again``)."""

    ids: IntArray
    scores: FloatArray
    buy_again: npt.NDArray[np.bool_]
    reason: Reason

    def items_of(self, row: int) -> list[tuple[int, float, str]]:
        """(item, score, reason) of one user, best first, padding dropped."""
        keep = self.ids[row] >= 0
        return [
            (int(item), float(score), (Reason.BUY_AGAIN if again else self.reason).value)
            for item, score, again in zip(
                self.ids[row][keep], self.scores[row][keep], self.buy_again[row][keep], strict=True
            )
        ]


def rank(
    scorer: Scorer,
    k: int,
    *,
    exclude: sp.csr_matrix | None = None,
    unavailable: npt.NDArray[np.bool_] | None = None,
    boost: sp.csr_matrix | None = None,
    boost_weight: float = 0.0,
    block_rows: int = 1024,
    num_threads: int = 1,
) -> RankedLists:
    """Top-``k`` items for every row of ``scorer``.

    Parameters
    ----------
    scorer
        Scores a block of users.
    k
        Items per user.
    exclude
        (rows, items) CSR: stored entries are never recommended to that user.
    unavailable
        Items never recommended to anyone.
    boost
        (rows, items) CSR of buy-again scores in [0, 1], fused as described in the module.
    boost_weight
        Weight of ``boost``; 0 leaves the model's ranking alone.
    block_rows, num_threads
        Users scored at once, and blocks in parallel (memory ~ block_rows x items x 4 bytes each).

    Returns
    -------
    RankedLists
    """
    n_items = scorer.n_items
    columns = candidate_columns(unavailable, n_items) if unavailable is not None else None
    position: IntArray | None = None
    if columns is not None:
        position = np.full(n_items, -1, dtype=np.int32)
        position[columns] = np.arange(columns.size, dtype=np.int32)
    fuse = boost is not None and boost_weight > 0 and boost.nnz > 0

    def score_block(start: int, stop: int) -> FloatArray:
        block = scorer.scores(start, stop, columns)
        if fuse and block.size:
            best = np.maximum(block.max(axis=1, keepdims=True), _TINY)
            block /= best
            assert boost is not None
            _add_sparse(block, boost[start:stop], position, np.float32(boost_weight))
        return block

    if columns is not None and columns.size == 0:
        empty_ids = np.full((scorer.n_rows, k), -1, dtype=np.int32)
        empty_scores = np.full((scorer.n_rows, k), -np.inf, dtype=np.float32)
        return RankedLists(empty_ids, empty_scores, np.zeros((scorer.n_rows, k), np.bool_), scorer.reason)
    ids, scores = topk_blockwise(
        score_block,
        scorer.n_rows,
        n_items,
        k,
        columns=columns,
        exclude=exclude,
        block_rows=block_rows,
        num_threads=num_threads,
    )
    again = _membership(ids, boost) if fuse and boost is not None else np.zeros(ids.shape, np.bool_)
    return RankedLists(ids, scores, again, scorer.reason)


def _add_sparse(
    block: FloatArray, rows: sp.csr_matrix, position: IntArray | None, weight: np.float32
) -> None:
    """block[r, column of item] += weight * value for each stored entry of ``rows``."""
    if rows.nnz == 0:
        return
    coo = rows.tocoo()
    cols = coo.col if position is None else position[coo.col]
    keep = cols >= 0
    np.add.at(block, (coo.row[keep], cols[keep]), weight * coo.data[keep].astype(np.float32))


def _membership(ids: IntArray, matrix: sp.csr_matrix) -> npt.NDArray[np.bool_]:
    """``out[r, j]``: ids[r, j] is a stored entry of row r of ``matrix``."""
    n_items = matrix.shape[1]
    if matrix.nnz == 0:
        return np.zeros(ids.shape, dtype=np.bool_)
    keys = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr)) * n_items
    keys += matrix.indices
    queries = np.arange(ids.shape[0], dtype=np.int64)[:, None] * n_items + ids
    found = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    hit: npt.NDArray[np.bool_] = (ids >= 0) & (keys[found] == queries)
    return hit


def top_of_rows(matrix: sp.csr_matrix, k: int) -> tuple[IntArray, FloatArray]:
    """Top-``k`` stored entries of each row (ties: lower id first), -1 / -inf padded."""
    n_rows = matrix.shape[0]
    ids = np.full((n_rows, k), -1, dtype=np.int32)
    scores = np.full((n_rows, k), -np.inf, dtype=np.float32)
    if matrix.nnz == 0:
        return ids, scores
    rows = np.repeat(np.arange(n_rows), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rows, cols, values = rows[order], matrix.indices[order], matrix.data[order]
    rank_in_row = np.arange(rows.size) - matrix.indptr[rows]
    keep = rank_in_row < k
    ids[rows[keep], rank_in_row[keep]] = cols[keep]
    scores[rows[keep], rank_in_row[keep]] = values[keep]
    return ids, scores
