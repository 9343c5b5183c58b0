"""Blockwise top-K equals a brute-force sort and honours every exclusion."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from recs.engine._typing import FloatArray
from recs.engine.topk import select_topk, topk_blockwise, topk_dot


def _brute_force(scores: FloatArray, k: int) -> tuple[NDArray[np.intp], FloatArray]:
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


@pytest.mark.parametrize(("n_items", "k"), [(7, 3), (50, 10), (5000, 10), (5003, 25)])
def test_select_topk_equals_argsort(n_items: int, k: int) -> None:
    # Given random scores without ties (small catalogs use argpartition, large ones the chunk path)
    scores = np.random.default_rng(n_items).standard_normal((37, n_items), dtype=np.float32)
    # When the top-k is selected
    ids, values = select_topk(scores.copy(), k)
    # Then it equals a full sort
    expected_ids, expected_values = _brute_force(scores, k)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(values, expected_values)
    assert ids.dtype == np.int32
    assert values.dtype == np.float32


@pytest.mark.parametrize("layout", ["c", "fortran"])
def test_the_chunk_path_with_exclusions_and_ties_returns_the_best_values(layout: str) -> None:
    # Given 5,000 scores per row rounded to create ties, a third of them excluded (-inf),
    # and some rows with fewer admissible items than k, in C or Fortran memory order
    rng = np.random.default_rng(11)
    scores = np.round(rng.standard_normal((64, 5000)), 1).astype(np.float32)
    scores[rng.random(scores.shape) < 0.33] = -np.inf
    scores[:4, 6:] = -np.inf
    if layout == "fortran":
        scores = np.asfortranarray(scores)
    # When the top 10 is selected
    ids, values = select_topk(scores, 10)
    # Then every row holds its 10 best values, best first, each at the column it names
    expected = -np.sort(-scores, axis=1)[:, :10]
    np.testing.assert_array_equal(values, expected)
    found = ids >= 0
    np.testing.assert_array_equal(
        np.take_along_axis(scores, np.where(found, ids, 0), axis=1)[found], values[found]
    )
    # and the rows with only 6 admissible items are padded, never with an excluded column
    assert (ids[:4, 6:] == -1).all()
    assert all(len(set(row[row >= 0].tolist())) == int((row >= 0).sum()) for row in ids)


def test_select_topk_pads_when_too_few_items_qualify() -> None:
    # Given a row where only two items are admissible
    scores = np.array([[0.5, -np.inf, 0.9, -np.inf]], dtype=np.float32)
    # When five items are requested
    ids, values = select_topk(scores, 5)
    # Then the two come first and the rest is padding
    assert ids.tolist() == [[2, 0, -1, -1, -1]]
    assert values[0, :2].tolist() == [pytest.approx(0.9), pytest.approx(0.5)]
    assert np.all(np.isneginf(values[0, 2:]))


def test_topk_dot_respects_per_user_and_global_exclusions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given BLAS declared single-threaded (so two block threads are allowed without threadpoolctl)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    # And factors, a purchase history and an unavailable item
    rng = np.random.default_rng(0)
    users = rng.standard_normal((23, 8), dtype=np.float32)
    items = rng.standard_normal((3000, 8), dtype=np.float32)
    history = sp.random(23, 3000, density=0.01, format="csr", dtype=np.float32, random_state=1)
    history.data[:] = 1.0
    unavailable = np.zeros(3000, dtype=bool)
    unavailable[[5, 17, 2999]] = True
    # When top-10 is computed in blocks of 4 users on two threads
    ids, scores = topk_dot(
        users, items, 10, exclude=history, excluded_items=unavailable, block_rows=4, num_threads=2
    )
    # Then it equals brute force with the exclusions masked
    full = users @ items.T
    full[history.nonzero()] = -np.inf
    full[:, unavailable] = -np.inf
    expected_ids, expected_scores = _brute_force(full, 10)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    # And nothing excluded appears
    assert not np.isin(ids, np.flatnonzero(unavailable)).any()
    for row in range(23):
        assert not np.isin(ids[row], history[row].indices).any()


@pytest.mark.parametrize("order", ["C", "F"])
def test_exclusions_are_masked_whatever_the_memory_order_of_the_scored_block(order: str) -> None:
    # Given scores that favour the excluded items, returned by the scorer in C or Fortran order
    rng = np.random.default_rng(5)
    scores = rng.uniform(0, 1, (6, 300)).astype(np.float32)
    excluded = sp.random(6, 300, density=0.2, format="csr", random_state=5, dtype=np.float32)
    excluded.data[:] = 1.0
    scores[excluded.toarray() > 0] += 10.0

    def score_block(start: int, stop: int) -> FloatArray:
        block: FloatArray = (
            np.asfortranarray(scores[start:stop]) if order == "F" else scores[start:stop].copy()
        )
        return block

    # When the top 5 of every row is taken with the exclusions, in blocks of 4 rows
    ids, _ = topk_blockwise(score_block, 6, 300, 5, exclude=excluded, block_rows=4)
    # Then no excluded item is returned
    dense = excluded.toarray() > 0
    assert not any(dense[row, item] for row in range(6) for item in ids[row] if item >= 0)


def test_topk_blockwise_maps_candidate_columns_back_to_item_ids() -> None:
    # Given a scorer that only scores items 10..19 (column j is item 10 + j)
    columns = np.arange(10, 20, dtype=np.int32)
    weights = np.arange(10, dtype=np.float32)

    def score(start: int, stop: int) -> FloatArray:
        return np.tile(weights, (stop - start, 1))

    exclude = sp.csr_matrix(([1.0], ([0], [19])), shape=(2, 30), dtype=np.float32)
    # When the top-3 is taken
    ids, _ = topk_blockwise(score, 2, 30, 3, columns=columns, exclude=exclude)
    # Then ids are catalog ids and the exclusion is applied in catalog space
    assert ids.tolist() == [[18, 17, 16], [19, 18, 17]]


def test_topk_rejects_bad_arguments() -> None:
    # Given / When / Then k < 1 and a mis-shaped exclusion raise ValueError
    def score(start: int, stop: int) -> FloatArray:
        return np.zeros((stop - start, 4), np.float32)

    with pytest.raises(ValueError, match="k must be"):
        topk_blockwise(score, 2, 4, 0)
    with pytest.raises(ValueError, match="exclude has shape"):
        topk_blockwise(score, 2, 4, 1, exclude=sp.csr_matrix((3, 4), dtype=np.float32))
