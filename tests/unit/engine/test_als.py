"""ALS: the fast CG solver agrees with the exact one, and the model recovers planted structure."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from recs.engine._typing import Csr, FloatArray
from recs.engine.als import AlternatingLeastSquares, Solver, plan_blocks, solve_cg, solve_exact

# Matches the `clustered` fixture in conftest.py (test modules cannot import conftest).
Clustered = tuple[Csr, NDArray[np.int64], NDArray[np.int64]]


def _factors(rows: int, f: int, seed: int) -> FloatArray:
    return np.random.default_rng(seed).standard_normal((rows, f), dtype=np.float32)


def test_cg_matches_exact_solver_after_enough_steps(small_random: Csr) -> None:
    # Given a small system, fixed item factors and a common starting point
    f = 6
    y = _factors(small_random.shape[1], f, seed=1)
    x0 = _factors(small_random.shape[0], f, seed=2) * np.float32(0.01)
    exact, fast = x0.copy(), x0.copy()
    # When both solvers update the user factors (CG gets f steps, enough to converge in theory)
    solve_exact(small_random, exact, y, regularization=0.1)
    solve_cg(small_random, fast, y, regularization=0.1, cg_steps=2 * f)
    # Then they agree to float32 precision
    np.testing.assert_allclose(fast, exact, rtol=1e-4, atol=1e-5)


def test_cg_with_few_steps_improves_on_the_warm_start(small_random: Csr) -> None:
    # Given a warm start far from the solution
    f = 8
    y = _factors(small_random.shape[1], f, seed=4)
    x0 = _factors(small_random.shape[0], f, seed=5)
    exact = x0.copy()
    solve_exact(small_random, exact, y, regularization=1.0)
    fast = x0.copy()
    # When CG takes three steps (the default)
    solve_cg(small_random, fast, y, regularization=1.0, cg_steps=3)
    # Then every row moved closer to the exact solution
    before = np.linalg.norm(x0 - exact, axis=1)
    after = np.linalg.norm(fast - exact, axis=1)
    assert np.all(after < before)


def test_cg_is_the_same_with_a_thread_pool_and_any_block_size(small_random: Csr) -> None:
    # Given the same problem solved serially with one block layout
    f = 5
    y = _factors(small_random.shape[1], f, seed=6)
    x0 = _factors(small_random.shape[0], f, seed=7)
    serial = x0.copy()
    solve_cg(small_random, serial, y, 0.5, plan=plan_blocks(small_random, block_nnz=1 << 16))
    # When it is solved with tiny blocks on two threads
    threaded = x0.copy()
    with ThreadPoolExecutor(2) as pool:
        solve_cg(small_random, threaded, y, 0.5, plan=plan_blocks(small_random, block_nnz=16), executor=pool)
    # Then the result is the same
    np.testing.assert_allclose(threaded, serial, rtol=1e-5, atol=1e-6)


def test_plan_covers_every_row_once_and_pads_with_the_zero_row(small_random: Csr) -> None:
    # Given a matrix with an empty row
    matrix = small_random.tolil()
    matrix[3, :] = 0
    matrix = matrix.tocsr().astype(np.float32)
    matrix.eliminate_zeros()
    # When it is planned into small blocks
    plan = plan_blocks(matrix, block_nnz=20)
    # Then every non-empty row is in exactly one block and the empty row is listed apart
    rows = np.concatenate([block.rows for block in plan.blocks])
    assert sorted(rows.tolist() + plan.empty_rows.tolist()) == list(range(matrix.shape[0]))
    assert plan.empty_rows.tolist() == [3]
    # And each block reproduces its rows, padded with the zero-row index and zero confidence
    for block in plan.blocks:
        for row, cols, conf in zip(block.rows, block.cols, block.conf, strict=True):
            lo, hi = matrix.indptr[row], matrix.indptr[row + 1]
            width = hi - lo
            assert cols[:width].tolist() == matrix.indices[lo:hi].tolist()
            assert np.all(cols[width:] == matrix.shape[1])
            assert np.all(conf[width:] == 0)


def test_users_without_interactions_get_zero_factors(small_random: Csr) -> None:
    # Given a user without interactions
    matrix = small_random.tolil()
    matrix[0, :] = 0
    matrix = matrix.tocsr().astype(np.float32)
    matrix.eliminate_zeros()
    # When ALS is fitted
    model = AlternatingLeastSquares(factors=4, iterations=2, random_state=1).fit(matrix)
    # Then that user's factors are exactly the optimum, zero
    assert np.all(model._factors()[0][0] == 0)


@pytest.mark.parametrize("solver", ["cg", "exact"])
def test_als_recovers_planted_clusters(clustered: Clustered, solver: Solver) -> None:
    # Given users in clusters who mostly like their cluster's items
    matrix, user_cluster, item_cluster = clustered
    # When ALS is fitted and recommends 5 unseen items per user
    model = AlternatingLeastSquares(
        factors=8, regularization=0.1, alpha=2.0, iterations=10, solver=solver, random_state=42
    ).fit(matrix)
    ids, scores = model.recommend(np.arange(matrix.shape[0]), matrix, n=5)
    # Then almost all recommendations come from the user's own cluster
    in_cluster = item_cluster[ids] == user_cluster[:, None]
    assert in_cluster.mean() > 0.95
    assert np.all(np.diff(scores, axis=1) <= 0)


def test_cg_and_exact_fits_rank_items_alike(clustered: Clustered) -> None:
    # Given the same data and seed
    matrix, _, _ = clustered

    def fit(solver: Solver, cg_steps: int) -> FloatArray:
        model = AlternatingLeastSquares(
            factors=6,
            regularization=0.5,
            alpha=1.0,
            iterations=6,
            random_state=3,
            solver=solver,
            cg_steps=cg_steps,
        ).fit(matrix)
        x, y = model._factors()
        scores: FloatArray = x @ y.T
        return scores

    # When the model is fitted with each solver (CG with enough steps to converge)
    exact, fast = fit("exact", 1), fit("cg", 12)
    # Then the learned score matrices agree
    np.testing.assert_allclose(fast, exact, atol=2e-3)


def test_fit_is_reproducible_with_a_seed(small_random: Csr) -> None:
    # Given two models with the same seed
    first = AlternatingLeastSquares(factors=4, iterations=3, random_state=11).fit(small_random)
    # When a second one is fitted on the same data
    second = AlternatingLeastSquares(factors=4, iterations=3, random_state=11).fit(small_random)
    # Then the factors are bit-identical and float32
    first_items, second_items = first._factors()[1], second._factors()[1]
    assert first_items.dtype == np.float32
    np.testing.assert_array_equal(first_items, second_items)


def test_log_confidence_is_used_when_asked(small_random: Csr) -> None:
    # Given a model with log-scaled confidence
    model = AlternatingLeastSquares(alpha=2.0, confidence="log", epsilon=0.5)
    # When the solver input is built
    cui = model.confidence_minus_one(small_random)
    # Then it holds alpha * log(1 + w / epsilon) with the same sparsity
    np.testing.assert_allclose(cui.data, 2.0 * np.log1p(small_random.data / 0.5), rtol=1e-6)
    assert cui.dtype == np.float32
    np.testing.assert_array_equal(cui.indices, small_random.indices)


def test_callback_reports_every_iteration(small_random: Csr) -> None:
    # Given a callback collecting iteration numbers
    seen: list[int] = []
    # When ALS runs three iterations
    model = AlternatingLeastSquares(factors=3, iterations=3)
    model.fit(small_random, callback=lambda it, _s: seen.append(it))
    # Then it was called once per iteration
    assert seen == [0, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"factors": 0}, "factors"),
        ({"cg_steps": 0}, "cg_steps"),
        ({"regularization": -1.0}, "regularization"),
        ({"alpha": float("nan")}, "alpha"),
        ({"solver": "magic"}, "solver"),
        ({"confidence": "cubic"}, "confidence"),
    ],
)
def test_bad_hyperparameters_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    # Given / When an invalid hyperparameter / Then a ValueError names it
    with pytest.raises(ValueError, match=message):
        AlternatingLeastSquares(**kwargs)


def test_fit_rejects_a_float64_matrix(small_random: Csr) -> None:
    # Given a float64 matrix
    matrix = small_random.astype(np.float64)
    # When / Then fitting refuses it with a clear message
    with pytest.raises(ValueError, match="float32"):
        AlternatingLeastSquares(factors=2, iterations=1).fit(matrix)


def test_recommend_rejects_history_of_the_wrong_shape(small_random: Csr) -> None:
    # Given a fitted model
    model = AlternatingLeastSquares(factors=2, iterations=1).fit(small_random)
    # When the history has a different number of rows than userids / Then ValueError
    with pytest.raises(ValueError, match="rows"):
        model.recommend([0, 1], small_random[:3], n=3)
    # And unknown users are rejected
    with pytest.raises(ValueError, match="userids"):
        model.recommend([small_random.shape[0]], sp.csr_matrix((1, small_random.shape[1]), dtype=np.float32))


def test_fold_in_solves_each_users_least_squares_against_the_fitted_items(small_random: Csr) -> None:
    # Given a fitted model
    model = AlternatingLeastSquares(
        factors=5, regularization=0.1, iterations=3, random_state=1, num_threads=1
    )
    model.fit(small_random)
    assert model.item_factors is not None
    # When the rows are folded in from zero with enough CG steps
    folded = model.fold_in(small_random, cg_steps=10)
    # Then each is the exact solution of its least squares against the fitted items
    exact = np.zeros_like(folded)
    solve_exact(model.confidence_minus_one(small_random), exact, model.item_factors, 0.1)
    np.testing.assert_allclose(folded, exact, rtol=1e-3, atol=1e-4)
    # ... and a re-weighted history gives other factors for the same user
    reweighted = small_random.copy()
    reweighted.data = reweighted.data * np.linspace(0.1, 1.0, reweighted.nnz, dtype=np.float32)
    assert not np.allclose(model.fold_in(reweighted, start=model.user_factors), folded, atol=1e-3)


def test_fold_in_refuses_a_history_of_another_catalog(small_random: Csr) -> None:
    # Given a fitted model / When asked to fold in rows with one column too many / Then refused
    model = AlternatingLeastSquares(factors=3, iterations=1, random_state=1, num_threads=1).fit(small_random)
    wider = sp.csr_matrix((small_random.shape[0], small_random.shape[1] + 1), dtype=np.float32)
    with pytest.raises(ValueError, match="columns"):
        model.fold_in(wider)
