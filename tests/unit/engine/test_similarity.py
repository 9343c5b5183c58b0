"""Item neighbours never include the item itself and match brute-force cosine."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recs.engine import similarity
from recs.engine.similarity import similar_by_cooccurrence, similar_by_vectors


def test_similar_by_vectors_is_cosine_without_self() -> None:
    # Given random item vectors
    vectors = np.random.default_rng(2).standard_normal((40, 6), dtype=np.float32)
    # When the 5 nearest neighbours of every item are computed in small blocks
    ids, scores = similar_by_vectors(vectors, 5, block_rows=7)
    # Then no item is its own neighbour and the result equals brute-force cosine
    assert not (ids == np.arange(40)[:, None]).any()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosine = unit @ unit.T
    np.fill_diagonal(cosine, -np.inf)
    expected = np.argsort(-cosine, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(cosine, expected, axis=1), rtol=1e-5)


def test_similar_by_vectors_for_selected_items() -> None:
    # Given two identical vectors and one orthogonal one
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    # When neighbours of item 0 are asked
    ids, scores = similar_by_vectors(vectors, 2, itemids=[0])
    # Then its twin comes first with cosine 1, itself never
    assert ids.tolist() == [[1, 2]]
    np.testing.assert_allclose(scores, [[1.0, 0.0]], atol=1e-6)


def test_cooccurrence_cosine_on_a_hand_computed_example() -> None:
    # Given 3 users: u0 has items {0, 1}, u1 has {0, 1, 2}, u2 has {2}
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=np.float32))
    # When co-occurrence neighbours are computed
    ids, scores = similar_by_cooccurrence(matrix, 2, block_rows=2)
    # Then cos(0,1) = 2/sqrt(2*2) = 1 and cos(0,2) = 1/sqrt(2*2) = 0.5; self is excluded
    assert ids[0].tolist() == [1, 2]
    np.testing.assert_allclose(scores[0], [1.0, 0.5], rtol=1e-6)
    assert ids[2].tolist() == [0, 1]
    np.testing.assert_allclose(scores[2], [0.5, 0.5], rtol=1e-6)
    assert not (ids == np.arange(3)[:, None]).any()


def test_cooccurrence_pads_rare_items_and_applies_min_count() -> None:
    # Given item 2 shares one user with item 0 only
    matrix = sp.csr_matrix(np.array([[1, 0, 1], [1, 1, 0], [1, 1, 0]], dtype=np.float32))
    # When pairs need at least two shared users
    ids, scores = similar_by_cooccurrence(matrix, 2, min_count=2)
    # Then item 2 has no neighbour and item 0 only item 1
    assert ids[2].tolist() == [-1, -1]
    assert np.all(np.isneginf(scores[2]))
    assert ids[0].tolist() == [1, -1]


def _rows_topk_by_sorting(
    rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_rows: int, k: int
) -> list[list[tuple[int, float]]]:
    """Brute force: per row, descending value, ties to the lower column."""
    out: list[list[tuple[int, float]]] = [[] for _ in range(n_rows)]
    for row, col, value in sorted(
        zip(rows.tolist(), cols.tolist(), values.tolist(), strict=True), key=lambda t: (t[0], -t[2], t[1])
    ):
        if len(out[row]) < k:
            out[row].append((col, value))
    return out


def test_sparse_rows_topk_packed_and_fallback_paths_match_a_full_sort() -> None:
    # Given a seeded COO triple with negative values, zeros and many ties, in random order
    rng = np.random.default_rng(3)
    n = 4000
    rows = rng.integers(0, 60, n).astype(np.int32)
    cols = rng.permutation(np.arange(n) % 700).astype(np.int32)
    values = rng.choice(np.array([-1.5, -0.25, 0.0, 0.125, 0.5, 2.0], np.float32), n)
    expected = _rows_topk_by_sorting(rows, cols, values, 60, 7)
    # When the top-7 of each row is taken by the packed 64-bit sort, and by the lexsort used
    # when the keys do not fit in 64 bits (forced by a 31-bit column id that no row keeps)
    packed = similarity._sparse_rows_topk(rows, cols, values, 60, 7)
    wide = np.append(cols, np.int32(2**31 - 1)).astype(np.int32)
    fallback = similarity._sparse_rows_topk(
        np.append(rows, 0).astype(np.int32), wide, np.append(values, np.float32(-np.inf)), 60, 7
    )
    # Then both equal the full sort, padding included
    for ids, scores in (packed, fallback):
        got = [
            [(int(c), float(v)) for c, v in zip(ids[r], scores[r], strict=True) if c >= 0] for r in range(60)
        ]
        assert got == expected
