"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) in numpy/scipy.

Model: every observed (user, item) pair is a preference ``p_ui = 1`` held with
confidence ``c_ui = 1 + alpha * w_ui`` (``w_ui`` is the already-weighted interaction
strength); unobserved pairs are ``p = 0`` with confidence 1. ALS alternates between
solving, for every user,

    (YᵀY + λI + Yᵀ (C_u - I) Y) x_u = Yᵀ C_u p_u

and the same for every item with the roles swapped.

Two solvers of that system live here:

* ``solve_exact``: the textbook per-row Cholesky solve, small and readable, ``O(nnz f²)``.
  It is the reference the fast solver is tested against.
* ``solve_cg``: a few conjugate-gradient steps per row, warm-started from the previous
  factors as in benfred/implicit, ``O(nnz f)`` per step, vectorised over blocks of rows.

How ``solve_cg`` is fast without compiled code of our own: rows are sorted by their
number of nonzeros and cut into blocks of similar length, each padded to a dense
``(rows, L)`` grid of column ids (padding points at an all-zero factor row and has
confidence 0, so it contributes nothing). For a block, the rows of the fixed factor
matrix ``Y`` are gathered ONCE into ``G`` (``rows x L x f``; ``Y`` does not change while
``X`` is solved). Each CG step is then two batched BLAS products over ``G``,

* ``t = G @ p``: ``t_ui = y_i · p_u`` for every nonzero,
* ``G.T @ ((c - 1) * t)``: the sparse part of ``A p``,

plus one dense ``P @ (YᵀY + λI)``. numpy releases the GIL inside them, so blocks run in
parallel on a thread pool, heaviest first. (Computing ``t`` with a scipy BSR matrix of
``1 x f`` blocks and the accumulation with a CSR product, also without copies, measured
about 30% slower on one core: scipy's small-block dot product is not vectorised.)

Memory: the plans hold the padded column ids and confidences of both orientations
(about 16 bytes per nonzero), and a block's gathered rows take ``block_nnz x f x 4``
bytes, except that one very popular item forms its own block (``nnz_i x f x 4`` bytes,
e.g. 230 MB for an item with 900k interactions at f = 64).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np
import scipy.linalg
from numpy.typing import NDArray

from recs.engine._threads import single_threaded_blas
from recs.engine._typing import Csr, FloatArray, IntArray
from recs.engine.base import JsonScalar, MatrixFactorizationBase
from recs.engine.checks import check_csr, check_positive

Solver = Literal["cg", "exact"]
Confidence = Literal["linear", "log"]
IterationCallback = Callable[[int, float], None]
"""Called after each iteration with ``(iteration, seconds_taken)``."""
Sweep = Callable[[Executor | None], None]

DEFAULT_BLOCK_NNZ = 1 << 16
# Below this squared residual norm a row has converged; further steps would divide ~0 by ~0.
_CONVERGED = np.float32(1e-20)


@dataclass(frozen=True)
class RowBlock:
    """Rows of similar length solved together, padded to a dense grid.

    Attributes
    ----------
    rows
        ``(b,)`` row ids in the matrix being solved.
    cols
        ``(b, L)`` column ids; padding holds ``n_other`` (the index of an all-zero row).
    conf
        ``(b, L)`` ``c - 1`` values; zero in padding.
    """

    rows: IntArray
    cols: IntArray
    conf: FloatArray


@dataclass(frozen=True)
class SolvePlan:
    """Precomputed blocks of one CSR matrix, reused by every ALS sweep.

    Attributes
    ----------
    blocks
        Row blocks, heaviest first so a thread pool never ends on one big straggler.
    empty_rows
        Rows without nonzeros; their exact solution is the zero vector.
    n_other
        Number of columns (rows of the fixed factor matrix).
    """

    blocks: list[RowBlock]
    empty_rows: IntArray
    n_other: int


def plan_blocks(cui: Csr, block_nnz: int = DEFAULT_BLOCK_NNZ, max_rows: int = 8192) -> SolvePlan:
    """Group rows of similar length into padded blocks of about ``block_nnz`` cells.

    Parameters
    ----------
    cui
        ``(n_rows, n_other)`` canonical CSR of ``c - 1`` values.
    block_nnz
        Target padded cells (rows x longest row) per block; sized so the gathered
        ``block_nnz x f`` float32 factor rows stay in cache. A single longer row forms
        its own block.
    max_rows
        Cap on rows per block, bounding the dense per-row work.

    Returns
    -------
    SolvePlan
        Blocks (heaviest first) and the rows that have no nonzeros.
    """
    n_other = cui.shape[1]
    indptr = cui.indptr
    counts = np.diff(indptr)
    order = np.argsort(counts, kind="stable")
    nonempty = counts[order] > 0
    empty_rows = order[~nonempty].astype(np.int32)
    order = order[nonempty]
    lengths = counts[order]
    blocks: list[RowBlock] = []
    i, n = 0, len(order)
    while i < n:
        # Rows are sorted by length, so the block's padded width is its last row's length.
        stop = min(n, i + max(1, block_nnz // int(lengths[i])), i + max_rows)
        while stop - i > 1 and int(lengths[stop - 1]) * (stop - i) > block_nnz:
            stop = i + max(1, block_nnz // int(lengths[stop - 1]))
        rows = order[i:stop]
        width = int(lengths[stop - 1])
        offsets = np.arange(width)[None, :]
        valid = offsets < lengths[i:stop, None]
        source = np.where(valid, indptr[rows][:, None] + offsets, 0)
        cols = np.where(valid, cui.indices[source], n_other).astype(np.int32)
        conf = np.where(valid, cui.data[source], 0).astype(np.float32)
        blocks.append(RowBlock(rows.astype(np.int32), cols, conf))
        i = stop
    blocks.reverse()
    return SolvePlan(blocks, empty_rows, n_other)


def _gram(factors: FloatArray, regularization: float) -> FloatArray:
    """``FᵀF + λI`` in float32: the part of every row's system shared by all rows."""
    gram = factors.T @ factors
    gram[np.diag_indices_from(gram)] += np.float32(regularization)
    return gram


def _cg_block(
    block: RowBlock, padded_other: FloatArray, x0: FloatArray, gram: FloatArray, cg_steps: int
) -> FloatArray:
    """Run ``cg_steps`` CG steps for one block, starting from ``x0`` (its rows' factors)."""
    conf = block.conf
    gathered = np.take(padded_other, block.cols, axis=0)  # (b, L, f), reused by every step
    x = x0.copy()
    # r = b - A x with b = Σ (1 + c') y and A x = gram x + Σ c' (y·x) y, where c' = c - 1;
    # padding has y = 0, so it adds nothing whatever its weight.
    t = np.matmul(gathered, x[:, :, None])[:, :, 0]
    weights = conf * (1 - t)
    weights += 1
    r = np.matmul(weights[:, None, :], gathered)[:, 0, :]
    r -= x @ gram
    p = r.copy()
    rs = np.einsum("ij,ij->i", r, r)
    for _ in range(cg_steps):
        t = np.matmul(gathered, p[:, :, None])[:, :, 0]
        np.multiply(conf, t, out=weights)
        ap = np.matmul(weights[:, None, :], gathered)[:, 0, :]
        ap += p @ gram
        pap = np.einsum("ij,ij->i", p, ap)
        step = np.divide(rs, pap, out=np.zeros_like(rs), where=(pap > 0) & (rs > _CONVERGED))
        x += step[:, None] * p
        r -= step[:, None] * ap
        rs_new = np.einsum("ij,ij->i", r, r)
        beta = np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > _CONVERGED)
        p *= beta[:, None]
        p += r
        rs = rs_new
    return x


def _solve_cg_padded(
    plan: SolvePlan,
    x: FloatArray,
    padded_other: FloatArray,
    regularization: float,
    cg_steps: int,
    executor: Executor | None,
) -> None:
    """``solve_cg`` on a precomputed plan; ``padded_other`` ends with one all-zero row."""
    gram = _gram(padded_other[: plan.n_other], regularization)
    x[plan.empty_rows] = 0.0

    def run(block: RowBlock) -> None:
        x[block.rows] = _cg_block(block, padded_other, x[block.rows], gram, cg_steps)

    if executor is None:
        for block in plan.blocks:
            run(block)
    else:
        list(executor.map(run, plan.blocks))


def solve_cg(
    cui: Csr,
    x: FloatArray,
    other: FloatArray,
    regularization: float,
    *,
    cg_steps: int = 3,
    plan: SolvePlan | None = None,
    executor: Executor | None = None,
) -> None:
    """Update every row of ``x`` in place with ``cg_steps`` warm-started CG steps.

    Parameters
    ----------
    cui
        ``(n_rows, n_other)`` CSR whose values are ``c - 1 = alpha * w`` (the confidence
        above the baseline); a stored entry means preference 1.
    x
        ``(n_rows, f)`` float32 factors to solve for; also the CG starting point.
    other
        ``(n_other, f)`` float32 factors held fixed.
    regularization
        L2 penalty λ.
    cg_steps
        CG steps per row (3 is enough with warm starts).
    plan
        Blocks from ``plan_blocks(cui)``; computed with the default size when ``None``.
    executor
        Runs blocks concurrently when given; blocks write disjoint rows of ``x``.
    """
    plan = plan if plan is not None else plan_blocks(cui)
    padded = np.vstack([other, np.zeros((1, other.shape[1]), other.dtype)])
    _solve_cg_padded(plan, x, padded, regularization, cg_steps, executor)


def solve_exact(cui: Csr, x: FloatArray, other: FloatArray, regularization: float) -> None:
    """Reference solver: set each row of ``x`` to the exact minimiser of its least squares.

    Parameters
    ----------
    cui
        ``(n_rows, n_other)`` CSR of ``c - 1`` values (see ``solve_cg``).
    x
        ``(n_rows, f)`` float32 output, overwritten.
    other
        ``(n_other, f)`` float32 factors held fixed.
    regularization
        L2 penalty λ.
    """
    y = other.astype(np.float64)
    gram = y.T @ y + regularization * np.eye(y.shape[1])
    for row in range(x.shape[0]):
        lo, hi = cui.indptr[row], cui.indptr[row + 1]
        y_row = y[cui.indices[lo:hi]]
        conf = cui.data[lo:hi].astype(np.float64)
        a = gram + (y_row.T * conf) @ y_row
        b = y_row.T @ (1.0 + conf)
        x[row] = scipy.linalg.solve(a, b, assume_a="pos")


@contextmanager
def _pool(num_threads: int) -> Iterator[Executor | None]:
    """A thread pool with BLAS pinned to one thread, or ``None`` to run inline (pinned too)."""
    with single_threaded_blas(num_threads, even_for_one=True) as usable:
        if usable <= 1:
            yield None
            return
        with ThreadPoolExecutor(max_workers=usable, thread_name_prefix="als") as pool:
            yield pool


class AlternatingLeastSquares(MatrixFactorizationBase):
    """Weighted matrix factorisation for implicit feedback, trained with ALS.

    Parameters
    ----------
    factors
        Latent dimension ``f``.
    regularization
        L2 penalty λ on both factor matrices.
    alpha
        Confidence slope: ``c = 1 + alpha * w`` (``"linear"``) or
        ``c = 1 + alpha * log(1 + w / epsilon)`` (``"log"``).
    iterations
        ALS sweeps (each solves users then items).
    cg_steps
        Conjugate-gradient steps per row and sweep (``solver="cg"``).
    solver
        ``"cg"`` (fast, default) or ``"exact"`` (reference Cholesky solve).
    confidence
        ``"linear"`` or ``"log"`` scaling of the interaction strength.
    epsilon
        Scale of the ``"log"`` confidence.
    random_state
        Seed or ``numpy.random.Generator`` for the initial factors; always seeded.
    num_threads
        Threads solving blocks of rows in parallel.
    block_nnz
        Padded nonzeros per CG block; sized so a block's gathered factor rows
        (``block_nnz x factors`` float32) stay in the CPU cache.
    """

    model_name = "als"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.01,
        alpha: float = 1.0,
        iterations: int = 15,
        cg_steps: int = 3,
        solver: Solver = "cg",
        confidence: Confidence = "linear",
        epsilon: float = 1.0,
        random_state: int | np.random.Generator = 0,
        num_threads: int = 1,
        block_nnz: int = DEFAULT_BLOCK_NNZ,
    ) -> None:
        super().__init__()
        if factors < 1 or iterations < 0 or cg_steps < 1 or num_threads < 1 or block_nnz < 1:
            raise ValueError(
                "factors, cg_steps, num_threads and block_nnz must be >= 1 and iterations >= 0; got "
                f"{factors=}, {iterations=}, {cg_steps=}, {num_threads=}, {block_nnz=}"
            )
        check_positive(regularization, "regularization", allow_zero=True)
        check_positive(alpha, "alpha", allow_zero=True)
        check_positive(epsilon, "epsilon")
        if solver not in ("cg", "exact"):
            raise ValueError(f"solver must be 'cg' or 'exact', got {solver!r}")
        if confidence not in ("linear", "log"):
            raise ValueError(f"confidence must be 'linear' or 'log', got {confidence!r}")
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.cg_steps = cg_steps
        self.solver: Solver = solver
        self.confidence: Confidence = confidence
        self.epsilon = epsilon
        self.random_state = random_state
        self.num_threads = num_threads
        self.block_nnz = block_nnz

    def get_params(self) -> dict[str, JsonScalar]:
        """Hyperparameters as a JSON-serialisable dict (the seed only if it is an int)."""
        seed = self.random_state if isinstance(self.random_state, int) else None
        return {
            "factors": self.factors,
            "regularization": self.regularization,
            "alpha": self.alpha,
            "iterations": self.iterations,
            "cg_steps": self.cg_steps,
            "solver": self.solver,
            "confidence": self.confidence,
            "epsilon": self.epsilon,
            "random_state": seed,
            "num_threads": self.num_threads,
            "block_nnz": self.block_nnz,
        }

    def confidence_minus_one(self, user_items: Csr) -> Csr:
        """The solvers' input: a copy of ``user_items`` holding ``c - 1`` per stored entry.

        Parameters
        ----------
        user_items
            Float32 canonical CSR of interaction strengths ``w``.

        Returns
        -------
        Csr
            Same sparsity, float32 values ``alpha * w`` or ``alpha * log(1 + w / epsilon)``.
        """
        out = user_items.copy()
        w = out.data
        scaled = w if self.confidence == "linear" else np.log1p(w / np.float32(self.epsilon))
        out.data = (np.float32(self.alpha) * scaled).astype(np.float32)
        return out

    def fit(self, user_items: Csr, *, callback: IterationCallback | None = None) -> Self:
        """Learn user and item factors.

        Parameters
        ----------
        user_items
            ``(n_users, n_items)`` float32 canonical CSR of interaction strengths ``w >= 0``.
        callback
            Optional ``callback(iteration, seconds)`` after every sweep.

        Returns
        -------
        Self
            The fitted model.
        """
        check_csr(user_items)
        n_users, n_items = user_items.shape
        cui = self.confidence_minus_one(user_items)
        ciu = cui.T.tocsr()
        rng = np.random.default_rng(self.random_state)
        # Each factor matrix carries one extra all-zero row: the CG blocks pad with it.
        x = np.zeros((n_users + 1, self.factors), np.float32)
        y = np.zeros((n_items + 1, self.factors), np.float32)
        # Small random factors: large ones would make the first sweep fight the init.
        x[:n_users] = rng.standard_normal((n_users, self.factors), dtype=np.float32) * np.float32(0.01)
        y[:n_items] = rng.standard_normal((n_items, self.factors), dtype=np.float32) * np.float32(0.01)
        sweep = self._cg_sweep(cui, ciu, x, y) if self.solver == "cg" else self._exact_sweep(cui, ciu, x, y)
        del cui, ciu  # the CG plans hold what they need; dropping these lowers peak memory
        with _pool(self.num_threads) as executor:
            for iteration in range(self.iterations):
                began = time.perf_counter()
                sweep(executor)
                if callback is not None:
                    callback(iteration, time.perf_counter() - began)
        self.user_factors, self.item_factors = x[:n_users], y[:n_items]
        return self

    def fold_in(self, user_items: Csr, start: FloatArray | None = None, *, cg_steps: int = 8) -> FloatArray:
        """User factors for rows of interactions, with the item factors held fixed.

        One user half-sweep: each row's weighted least squares against the fitted items, as a
        sweep of ``fit`` would solve it. Scoring a user from a re-weighted history (recent
        products counting more) needs factors for that history rather than the fitted ones.

        Parameters
        ----------
        user_items
            ``(n, n_items)`` float32 canonical CSR of interaction strengths ``w``.
        start
            ``(n, f)`` starting factors (e.g. the fitted ones of the same users); zeros when None.
        cg_steps
            CG steps per row (more than a sweep's, which start from the previous sweep).

        Returns
        -------
        FloatArray
            ``(n, f)`` float32 factors.
        """
        check_csr(user_items)
        _, items = self._factors()
        if user_items.shape[1] != items.shape[0]:
            raise ValueError(
                f"user_items has {user_items.shape[1]} columns, the model {items.shape[0]} items"
            )
        x = (
            np.zeros((user_items.shape[0], self.factors), np.float32)
            if start is None
            else np.array(start, dtype=np.float32, copy=True)
        )
        with _pool(self.num_threads) as executor:
            solve_cg(
                self.confidence_minus_one(user_items),
                x,
                items,
                self.regularization,
                cg_steps=cg_steps,
                executor=executor,
            )
        return x

    def _cg_sweep(self, cui: Csr, ciu: Csr, x: FloatArray, y: FloatArray) -> Sweep:
        """One ALS sweep with CG, over plans built once (the closure keeps only the plans)."""
        user_plan, item_plan = plan_blocks(cui, self.block_nnz), plan_blocks(ciu, self.block_nnz)

        def sweep(executor: Executor | None) -> None:
            _solve_cg_padded(user_plan, x, y, self.regularization, self.cg_steps, executor)
            _solve_cg_padded(item_plan, y, x, self.regularization, self.cg_steps, executor)

        return sweep

    def _exact_sweep(self, cui: Csr, ciu: Csr, x: FloatArray, y: FloatArray) -> Sweep:
        """One ALS sweep with the exact reference solver (needs the CSR matrices)."""
        n_users, n_items = cui.shape

        def sweep(_executor: Executor | None) -> None:
            solve_exact(cui, x[:n_users], y[:n_items], self.regularization)
            solve_exact(ciu, y[:n_items], x[:n_users], self.regularization)

        return sweep

    @classmethod
    def _from_arrays(cls, params: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> Self:
        seed = params.pop("random_state", None)
        model = cls(**params, random_state=0 if seed is None else int(seed))
        model.user_factors = arrays["user_factors"].astype(np.float32, copy=False)
        model.item_factors = arrays["item_factors"].astype(np.float32, copy=False)
        return model
