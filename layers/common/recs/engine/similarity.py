"""Item-to-item neighbours, computed blockwise with the item itself excluded.

Two flavours:

* ``similar_by_vectors``: cosine between dense item vectors (ALS item factors).
* ``similar_by_cooccurrence``: cosine between the item columns of the interaction
  matrix (how often two items share a user, normalised by their popularity). The
  product ``items x users @ users x items`` is sparse, so it is computed one block of
  query items at a time and reduced to top-K straight from the sparse rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.checks import check_csr, check_ids
from recs.engine.topk import DEFAULT_BLOCK_ROWS, topk_blockwise


def normalize_rows(vectors: FloatArray) -> FloatArray:
    """Return float32 rows scaled to unit L2 norm; all-zero rows stay zero.

    Parameters
    ----------
    vectors
        ``(n, f)`` array.

    Returns
    -------
    FloatArray
        ``(n, f)`` normalised copy.
    """
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    unit: FloatArray = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
    return unit


def _self_exclusion(itemids: IntArray, n_items: int) -> Csr:
    """One stored entry per query row: the query item itself."""
    rows = len(itemids)
    return sp.csr_matrix(
        (np.ones(rows, np.float32), itemids, np.arange(rows + 1, dtype=np.int32)), shape=(rows, n_items)
    )


def similar_by_vectors(
    vectors: FloatArray,
    k: int,
    *,
    itemids: Any = None,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    num_threads: int = 1,
) -> tuple[IntArray, FloatArray]:
    """Top-``k`` cosine neighbours of items given their dense vectors.

    Parameters
    ----------
    vectors
        ``(n_items, f)`` item vectors (e.g. ALS item factors).
    k
        Neighbours per item.
    itemids
        Query items; ``None`` means every item.
    block_rows
        Query items scored at once.
    num_threads
        Blocks scored concurrently.

    Returns
    -------
    ids : IntArray
        ``(len(itemids), k)`` neighbour ids, best first, never the item itself; ``-1`` padded.
    scores : FloatArray
        ``(len(itemids), k)`` cosine similarities in ``[-1, 1]``, ``-inf`` padded.
    """
    n_items = vectors.shape[0]
    items = np.arange(n_items, dtype=np.int32) if itemids is None else check_ids(itemids, n_items, "itemids")
    unit = normalize_rows(vectors)
    queries = unit[items]
    unit_t = np.ascontiguousarray(unit.T)

    def score(start: int, stop: int) -> FloatArray:
        return queries[start:stop] @ unit_t

    return topk_blockwise(
        score,
        len(items),
        n_items,
        k,
        exclude=_self_exclusion(items, n_items),
        block_rows=block_rows,
        num_threads=num_threads,
    )


def similar_by_cooccurrence(
    user_items: Csr,
    k: int,
    *,
    itemids: Any = None,
    min_count: int = 1,
    block_rows: int = 256,
) -> tuple[IntArray, FloatArray]:
    """Top-``k`` neighbours by cosine similarity of the items' (binarised) user columns.

    ``cos(i, j) = |U_i & U_j| / sqrt(|U_i| |U_j|)`` where ``U_i`` is the set of users who
    interacted with item ``i``. Only pairs that co-occur at least ``min_count`` times are
    candidates, so rare items get fewer than ``k`` neighbours rather than noise.

    Parameters
    ----------
    user_items
        ``(n_users, n_items)`` float32 canonical CSR; only its sparsity pattern is used.
    k
        Neighbours per item.
    itemids
        Query items; ``None`` means every item.
    min_count
        Minimum number of shared users for a pair to count.
    block_rows
        Query items per block; memory is bounded by ``block_rows * n_items`` co-occurrences.

    Returns
    -------
    ids : IntArray
        ``(len(itemids), k)`` neighbour ids, best first, never the item itself; ``-1`` padded.
    scores : FloatArray
        ``(len(itemids), k)`` cosine similarities in ``(0, 1]``, ``-inf`` padded.
    """
    check_csr(user_items)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    n_items = user_items.shape[1]
    items = np.arange(n_items, dtype=np.int32) if itemids is None else check_ids(itemids, n_items, "itemids")
    binary = user_items.copy()
    binary.data = np.ones_like(binary.data)
    item_users = binary.T.tocsr()
    norms = np.sqrt(np.diff(item_users.indptr).astype(np.float32))
    ids = np.full((len(items), k), -1, np.int32)
    scores = np.full((len(items), k), -np.inf, np.float32)
    for start in range(0, len(items), block_rows):
        query = items[start : start + block_rows]
        # A CSR product has one entry per (row, column) already (only its columns are
        # unsorted, which the selection does not need): no sum_duplicates, whose sort cost
        # a fifth of this function (profiled).
        counts = (item_users[query] @ binary).tocsr()
        rows = np.repeat(np.arange(len(query)), np.diff(counts.indptr))
        cols = counts.indices
        keep = (cols != query[rows]) & (counts.data >= min_count)
        rows, cols = rows[keep], cols[keep]
        sims = (counts.data[keep] / (norms[query[rows]] * norms[cols])).astype(np.float32)
        block_ids, block_scores = _sparse_rows_topk(rows, cols, sims, len(query), k)
        ids[start : start + len(query)] = block_ids
        scores[start : start + len(query)] = block_scores
    return ids, scores


def _sparse_rows_topk(
    rows: IntArray, cols: IntArray, values: FloatArray, n_rows: int, k: int
) -> tuple[IntArray, FloatArray]:
    """Top-``k`` of each row of a COO triple without densifying it.

    Order: by row, then by descending value, ties to the lower column. When row, value and
    column fit in 64 bits they are packed into one key and sorted with numpy's vectorised
    integer sort (several times faster than ``np.lexsort`` over three keys, profiled on the
    co-occurrence blocks); the key is decoded back, so no permutation is needed.
    """
    values = values.astype(np.float32) + np.float32(0.0)  # -0.0 -> 0.0: equal values tie on column
    col_bits = max(1, int(cols.max()).bit_length()) if len(cols) else 1
    row_bits = max(1, int(n_rows - 1).bit_length())
    if row_bits + 32 + col_bits <= 64:
        descending = np.uint64(0xFFFFFFFF) - _orderable(values)
        keys = rows.astype(np.uint64) << np.uint64(32 + col_bits)
        keys |= descending << np.uint64(col_bits)
        keys |= cols.astype(np.uint64)
        keys.sort()
        rows = (keys >> np.uint64(32 + col_bits)).astype(np.intp)
        cols = (keys & np.uint64((1 << col_bits) - 1)).astype(np.int32)
        descending = (keys >> np.uint64(col_bits)) & np.uint64(0xFFFFFFFF)
        values = _from_orderable(np.uint64(0xFFFFFFFF) - descending)
    else:
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < k
    ids = np.full((n_rows, k), -1, np.int32)
    scores = np.full((n_rows, k), -np.inf, np.float32)
    ids[rows[keep], rank[keep]] = cols[keep]
    scores[rows[keep], rank[keep]] = values[keep]
    return ids, scores


def _orderable(values: FloatArray) -> NDArray[np.uint64]:
    """float32 -> unsigned keys in the same order (sign bit flipped; negatives all bits flipped)."""
    bits = values.view(np.uint32).astype(np.uint64)
    negative = bits >= np.uint64(0x80000000)
    keys: NDArray[np.uint64] = np.where(negative, np.uint64(0xFFFFFFFF) - bits, bits | np.uint64(0x80000000))
    return keys


def _from_orderable(keys: NDArray[np.uint64]) -> FloatArray:
    """The inverse of `_orderable`."""
    positive = keys >= np.uint64(0x80000000)
    bits = np.where(positive, keys - np.uint64(0x80000000), np.uint64(0xFFFFFFFF) - keys)
    values: FloatArray = bits.astype(np.uint32).view(np.float32)
    return values
