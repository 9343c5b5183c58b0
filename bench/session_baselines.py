"""Session-based baselines of Ludewig & Jannach (2018), written here with numpy and scipy only.

They must not share code with the product they are compared with (no ``recs`` import):

* popularity: sessions of the training part containing each product;
* item-kNN (IKNN): the cosine of session co-occurrence between the prefix's last product and
  every product, ``|S_i & S_j| / (sqrt(|S_i| |S_j|) + shrink)`` over training sessions;
* V-SKNN: session-based kNN over the whole prefix. Candidates are the ``m`` most recent training
  sessions sharing a product with it; the ``k`` most similar of them are its neighbours, where
  similarity is the cosine between the prefix (each product weighted by how recent it is in the
  prefix, ``decay``) and the binary neighbour session; a product's score is the sum of the
  similarities of the neighbours containing it.

Every method ranks the whole catalog: ties (including products it has no score for) by training
popularity, then by index; the prefix's products and the products the shop does not sell are
left out of every ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bench.session_data import Session

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: How much an older product of the prefix counts, by its distance d from the newest (0 for it)
#: in a prefix of L products: none 1, linear 1 - d / L, harmonic 1 / (1 + d).
Decay = Literal["none", "linear", "harmonic"]
DECAYS: tuple[Decay, ...] = ("none", "linear", "harmonic")
#: Scores every product for a prefix (item indices, oldest first).
Scorer = Callable[[IntArray], FloatArray]


@dataclass(frozen=True)
class TrainingSessions:
    """Training sessions as a binary session x item matrix, sessions in order of their start."""

    items: list[str]
    index: dict[str, int]
    by_session: sp.csr_matrix
    by_item: sp.csr_matrix
    lengths: FloatArray
    popularity: FloatArray

    @classmethod
    def build(cls, sessions: Sequence[Session], extra_items: Sequence[str] = ()) -> TrainingSessions:
        """``sessions`` in start order; ``extra_items`` join the vocabulary without data."""
        items = sorted({item for s in sessions for item in s.items} | set(extra_items))
        index = {item: i for i, item in enumerate(items)}
        rows = [np.unique([index[item] for item in s.items]) for s in sessions]
        indptr = np.concatenate([[0], np.cumsum([r.size for r in rows])]).astype(np.int64)
        indices = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        matrix = sp.csr_matrix(
            (np.ones(indices.size, dtype=np.float64), indices, indptr), shape=(len(sessions), len(items))
        )
        transposed = sp.csr_matrix(matrix.T)
        transposed.sort_indices()
        return cls(
            items=items,
            index=index,
            by_session=matrix,
            by_item=transposed,
            lengths=np.diff(matrix.indptr).astype(np.float64),
            popularity=np.diff(transposed.indptr).astype(np.float64),
        )

    @property
    def n_items(self) -> int:
        return len(self.items)

    def encode(self, products: Sequence[str]) -> IntArray:
        """Indices of the known products, in order (unknown ones dropped)."""
        return np.array([self.index[p] for p in products if p in self.index], dtype=np.int64)


def gather_rows(matrix: sp.csr_matrix, rows: IntArray) -> tuple[IntArray, IntArray]:
    """The column indices stored in ``rows`` of ``matrix``, and which of ``rows`` each came from."""
    starts = matrix.indptr[rows].astype(np.int64)
    counts = matrix.indptr[rows + 1].astype(np.int64) - starts
    total = int(counts.sum())
    first_of_row = np.cumsum(counts) - counts
    offsets = np.repeat(starts - first_of_row, counts) + np.arange(total, dtype=np.int64)
    return matrix.indices[offsets].astype(np.int64), np.repeat(np.arange(rows.size, dtype=np.int64), counts)


# ---------------------------------------------------------------------------------- methods
def popularity_scorer(data: TrainingSessions) -> Scorer:
    scores = data.popularity.copy()
    return lambda _prefix: scores


def item_knn_scorer(data: TrainingSessions, shrink: float = 0.0) -> Scorer:
    """IKNN: similarity of the prefix's last product with every product."""
    counts = data.popularity
    co = (data.by_item @ data.by_session).toarray()
    np.fill_diagonal(co, 0.0)
    similarity = co / (np.sqrt(np.outer(counts, counts)) + shrink + 1e-12)
    return lambda prefix: similarity[prefix[-1]] if prefix.size else np.zeros(data.n_items)


def recency_weights(prefix: IntArray, decay: Decay) -> tuple[IntArray, FloatArray]:
    """The prefix's distinct products and their weights, each at its most recent position."""
    length = prefix.size
    last_position: dict[int, int] = {}
    for position, item in enumerate(prefix.tolist()):
        last_position[item] = position
    items = np.fromiter(last_position, dtype=np.int64, count=len(last_position))
    distance = length - 1 - np.fromiter(last_position.values(), dtype=np.float64, count=len(last_position))
    if decay == "none":
        weights = np.ones(items.size)
    elif decay == "linear":
        weights = 1.0 - distance / length
    else:
        weights = 1.0 / (1.0 + distance)
    return items, weights


def vsknn_scorer(data: TrainingSessions, *, k: int, m: int, decay: Decay) -> Scorer:
    """V-SKNN with ``k`` neighbours among the ``m`` most recent sessions sharing a product."""

    def score(prefix: IntArray) -> FloatArray:
        if prefix.size == 0:
            return np.zeros(data.n_items)
        items, weights = recency_weights(prefix, decay)
        sessions, of_item = gather_rows(data.by_item, items)
        candidates, inverse = np.unique(sessions, return_inverse=True)
        overlap = np.bincount(inverse, weights=weights[of_item], minlength=candidates.size)
        # Sessions are numbered in order of their start: the most recent are the last ones.
        candidates, overlap = candidates[-m:], overlap[-m:]
        similarity = overlap / np.sqrt(data.lengths[candidates])
        if candidates.size > k:
            best = np.argpartition(-similarity, k - 1)[:k]
            candidates, similarity = candidates[best], similarity[best]
        neighbour_items, of_neighbour = gather_rows(data.by_session, candidates)
        scores = np.bincount(neighbour_items, weights=similarity[of_neighbour], minlength=data.n_items)
        return scores.astype(np.float64)

    return score
