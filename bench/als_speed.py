"""Training speed: seconds per ALS iteration (recs vs `implicit`), top-K vs the bare multiply, peak memory.

    python -m bench --quick --only als_speed    # 20k users x 5k items x 1M interactions
    python -m bench --full --only als_speed     # that, then 200k x 50k x 10M
    python -m bench.als_speed [--quick]         # JSON to stdout

Both libraries get the same synthetic power-law matrix (seeded), float32, the same factors
(64), iterations (7), threads (2, this machine's cores), CG with 3 steps, and BLAS limited to
one thread (implicit's own recommendation; recs.engine does it itself). Every iteration is
timed by each library's own callback (the two half-sweeps, no setup); fits of the two
libraries alternate for several rounds so background load on a shared machine hits both
alike, each fit waits for a quiet moment (within a total budget), and the median over all
iterations but each fit's first is reported, with process CPU time per iteration, whole-fit
wall time and the background CPU load seen before each fit.

Top-K: every user's 10 best items (all items scored, seen ones excluded) against the bare block
matrix multiply of the same scores, timed two ways (blocks one after another with BLAS using
its threads, and blocks in parallel with BLAS pinned to one thread, as top-K runs) and the
faster taken, medians of 3. Goal: selection adds no more than the multiply costs (ratio <= 2).

Peak memory of a fit: each library fits the same matrix in a fresh process; the peak resident
set during the fit (VmHWM, reset just before it) minus the resident set before it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.environment import REPO_ROOT, QuietWaiter, benchmark_main, log
from bench.figures import Figure, figure
from recs.engine._threads import single_threaded_blas
from recs.engine.als import AlternatingLeastSquares
from recs.engine.topk import topk_dot
from recs_tools.process_memory import reset_peak_rss, status_kib

COMMAND = "python -m bench --only als_speed"
SIZES: dict[str, tuple[int, int, int]] = {
    "quick": (20_000, 5_000, 1_000_000),
    "full": (200_000, 50_000, 10_000_000),
}


def power_law_matrix(n_users: int, n_items: int, nnz: int, seed: int) -> Any:
    """User activity ~ Pareto(1.5), item popularity ~ Zipf(0.9); exactly ``nnz`` distinct pairs.

    Strengths are repeat counts capped at 5, like weighted shop events.
    """
    rng = np.random.default_rng(seed)
    activity = rng.pareto(1.5, n_users) + 1.0
    activity /= activity.sum()
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    popularity = rng.permutation(popularity / popularity.sum())
    draws = int(nnz * 1.3)
    while True:
        users = rng.choice(n_users, size=draws, p=activity).astype(np.int32)
        items = rng.choice(n_items, size=draws, p=popularity).astype(np.int32)
        counts = sp.csr_matrix((np.ones(draws, np.float32), (users, items)), shape=(n_users, n_items))
        counts.sum_duplicates()
        if counts.nnz >= nnz:
            break
        draws = int(draws * nnz / counts.nnz * 1.05)
    coo = counts.tocoo()
    keep = np.sort(rng.choice(coo.nnz, size=nnz, replace=False))
    matrix = sp.csr_matrix(
        (np.minimum(coo.data[keep], 5).astype(np.float32), (coo.row[keep], coo.col[keep])),
        shape=(n_users, n_items),
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


class IterationClock:
    """Collects each library's own per-iteration wall time plus process CPU time between callbacks.

    The first iteration is reported but left out of the medians: its CPU interval would
    include setup, and both libraries warm caches in it.
    """

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu_marks: list[float] = []

    def tick(self, seconds: float) -> None:
        self.wall.append(seconds)
        self.cpu_marks.append(time.process_time())

    def summary(self, fit_wall: float) -> dict[str, Any]:
        steady = self.wall[1:] or self.wall
        cpu = list(np.diff(self.cpu_marks))
        return {
            "median_s_per_iteration": round(statistics.median(steady), 4),
            "median_cpu_s_per_iteration": round(statistics.median(cpu), 4) if cpu else None,
            "per_iteration_s": [round(t, 4) for t in self.wall],
            "fit_wall_s": round(fit_wall, 3),
        }


def time_ours(matrix: Any, factors: int, iterations: int, threads: int) -> dict[str, Any]:
    clock = IterationClock()
    model = AlternatingLeastSquares(
        factors=factors, iterations=iterations, num_threads=threads, regularization=0.01, alpha=1.0
    )
    began = time.perf_counter()
    model.fit(matrix, callback=lambda _it, seconds: clock.tick(seconds))
    return clock.summary(time.perf_counter() - began) | {"block_nnz": model.block_nnz}


def time_implicit(matrix: Any, factors: int, iterations: int, threads: int) -> dict[str, Any]:
    try:
        from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError as missing:
        raise RuntimeError("implicit is not installed: run `make bench-deps`") from missing
    clock = IterationClock()
    with threadpool_limits(limits=1, user_api="blas"):
        model = ImplicitALS(
            factors=factors,
            iterations=iterations,
            use_cg=True,
            num_threads=threads,
            regularization=0.01,
            alpha=1.0,
            dtype=np.float32,
            random_state=0,
            calculate_training_loss=False,
        )
        began = time.perf_counter()
        model.fit(matrix, show_progress=False, callback=lambda _it, seconds, _loss: clock.tick(seconds))
    return clock.summary(time.perf_counter() - began)


def compare_als(matrix: Any, settings: Settings, quiet: QuietWaiter) -> dict[str, Any]:
    """Alternate implicit and ours for ``rounds`` fits each, so background load hits both alike."""
    runs: dict[str, list[dict[str, Any]]] = {"implicit": [], "ours": []}
    for round_ in range(settings.rounds):
        order = ("implicit", "ours") if round_ % 2 == 0 else ("ours", "implicit")
        for name in order:
            busy = quiet()
            log(f"  round {round_ + 1}: {name} (CPU busy before: {busy}%)")
            timer = time_implicit if name == "implicit" else time_ours
            result = timer(matrix, settings.factors, settings.iterations, settings.threads)
            runs[name].append(result | {"cpuBusyPercentBefore": busy})
    entry: dict[str, Any] = {}
    for name, results in runs.items():
        if not results:
            entry[name] = None
            continue
        steady = [t for r in results for t in r["per_iteration_s"][1:]]
        cpu = [r["median_cpu_s_per_iteration"] for r in results if r["median_cpu_s_per_iteration"]]
        entry[name] = {
            "median_s_per_iteration": round(statistics.median(steady), 4),
            "median_cpu_s_per_iteration": round(statistics.median(cpu), 4) if cpu else None,
            "runs": results,
        }
    if entry["implicit"] is not None:
        ratio = entry["ours"]["median_s_per_iteration"] / entry["implicit"]["median_s_per_iteration"]
        entry["ratio_ours_over_implicit"] = round(ratio, 3)
        ours_cpu = entry["ours"]["median_cpu_s_per_iteration"]
        implicit_cpu = entry["implicit"]["median_cpu_s_per_iteration"]
        if ours_cpu and implicit_cpu:
            entry["cpu_ratio_ours_over_implicit"] = round(ours_cpu / implicit_cpu, 3)
        entry["goal_ratio_at_most"] = 1.5
        entry["goal_met"] = ratio <= 1.5
    return entry


def time_topk(
    matrix: Any, factors: int, threads: int, k: int, seed: int, quiet: QuietWaiter
) -> dict[str, Any]:
    """Top-k for every user (all items, seen ones excluded) vs the bare block GEMMs.

    The bare multiply is timed two ways, both without selection: one block after another
    with BLAS using its own threads, and ``threads`` blocks in parallel with BLAS pinned
    to one thread (exactly how ``topk_dot`` runs). The overhead is measured against the
    faster of the two, so selection cannot hide behind a slow baseline. The three take
    turns in each of 3 rounds (with a pause after the BLAS-threaded one, whose idle threads
    spin for a while); medians.
    """
    rng = np.random.default_rng(seed)
    users = rng.standard_normal((matrix.shape[0], factors), dtype=np.float32)
    items = rng.standard_normal((matrix.shape[1], factors), dtype=np.float32)
    block = 1024
    items_t = np.ascontiguousarray(items.T)
    starts = range(0, users.shape[0], block)

    def multiply(start: int) -> None:
        users[start : start + block] @ items_t

    def bare_blas_threads() -> None:
        for start in starts:
            multiply(start)

    def bare_parallel_blocks() -> None:
        with single_threaded_blas(threads) as usable, ThreadPoolExecutor(usable) as pool:
            list(pool.map(multiply, starts))

    def full() -> None:
        topk_dot(users, items, k, exclude=matrix, block_rows=block, num_threads=threads)

    variants: dict[str, Callable[[], None]] = {
        "serial": bare_blas_threads,
        "parallel": bare_parallel_blocks,
        "topk": full,
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    busy = []
    for _ in range(3):
        busy.append(quiet())
        for name, call in variants.items():
            began = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - began)
            if name == "serial":
                # OpenBLAS's own threads keep spinning for a while after a call; measured, they
                # doubled the next variant's time when it started at once.
                time.sleep(0.3)
    bare_serial, bare_parallel, with_selection = (statistics.median(samples[name]) for name in variants)
    bare = min(bare_serial, bare_parallel)
    overhead = (with_selection - bare) / bare
    return {
        "k": k,
        "users": int(users.shape[0]),
        "items": int(items.shape[0]),
        "block_rows": block,
        "bare_multiply_blas_threads_s": round(bare_serial, 3),
        "bare_multiply_parallel_blocks_s": round(bare_parallel, 3),
        "topk_s": round(with_selection, 3),
        "selection_overhead_ratio": round(overhead, 3),
        "goal_overhead_at_most": 1.0,
        "goal_met": overhead <= 1.0,
        "samples_s": {name: [round(t, 4) for t in times] for name, times in samples.items()},
        "cpuBusyPercentBefore": busy,
    }


# ---------------------------------------------------------------------------------- peak memory
_MEMORY_CHILD = """
import json, sys
import numpy as np, scipy.sparse as sp
from bench.als_speed import fit_for_memory
print(json.dumps(fit_for_memory(sys.argv[1], sys.argv[2], *map(int, sys.argv[3:]))))
"""


def fit_for_memory(library: str, path: str, factors: int, iterations: int, threads: int) -> dict[str, Any]:
    """In a fresh process: load the matrix, reset the peak, fit, report the fit's peak growth."""
    matrix = sp.load_npz(path).tocsr()
    before = reset_peak_rss()
    timer = time_implicit if library == "implicit" else time_ours
    timer(matrix, factors, iterations, threads)
    peak = status_kib("VmHWM")
    return {
        "rssBeforeMiB": round(before / 1024, 1),
        "peakMiB": round(peak / 1024, 1),
        "fitPeakExtraMiB": round((peak - before) / 1024, 1),
    }


def peak_memory(matrix: Any, settings: Settings) -> dict[str, Any]:
    """Peak extra memory of one fit per library, each in its own process."""
    with tempfile.TemporaryDirectory(prefix="bench-als-") as tmp:
        path = Path(tmp) / "matrix.npz"
        sp.save_npz(path, matrix, compressed=False)
        out: dict[str, Any] = {}
        for library in ("ours", "implicit"):
            args = [str(path), str(settings.factors), str(settings.iterations), str(settings.threads)]
            done = subprocess.run(
                [sys.executable, "-c", _MEMORY_CHILD, library, *args],
                cwd=REPO_ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            out[library] = json.loads(done.stdout.strip().splitlines()[-1])
            log(f"  peak memory of a fit, {library}: {out[library]['fitPeakExtraMiB']} MiB above the matrix")
    return out


# ---------------------------------------------------------------------------------- the run
@dataclass(frozen=True)
class Settings:
    factors: int = 64
    iterations: int = 7
    threads: int = 2
    seed: int = 0
    rounds: int = 2
    quiet_below: float = 20.0
    quiet_per_wait: float = 20.0
    quiet_budget: float = 60.0
    topk_users: int = 50_000


def measure_size(size: str, settings: Settings, quiet: QuietWaiter) -> dict[str, Any]:
    n_users, n_items, nnz = SIZES[size]
    log(f"[{size}] generating {n_users} x {n_items}, {nnz} nonzeros")
    began = time.perf_counter()
    matrix = power_law_matrix(n_users, n_items, nnz, settings.seed)
    entry: dict[str, Any] = {
        "users": n_users,
        "items": n_items,
        "nnz": int(matrix.nnz),
        "generationSeconds": round(time.perf_counter() - began, 1),
    }
    entry["als"] = compare_als(matrix, settings, quiet)
    sample = min(matrix.shape[0], settings.topk_users)
    log(f"[{size}] top-k vs bare multiply on {sample} users")
    entry["topk"] = time_topk(matrix[:sample], settings.factors, settings.threads, 10, settings.seed, quiet)
    entry["peakMemory"] = peak_memory(matrix, settings)
    return entry


def run(quick: bool) -> dict[str, Any]:
    """Seconds per iteration, top-K overhead and peak memory at the quick size (and the full one).

    Parameters
    ----------
    quick
        Only 20k users x 5k items x 1M interactions, 2 rounds; otherwise also 200k x 50k x 10M
        with 3 rounds and a longer wait for a quiet machine.

    Returns
    -------
    dict
        ``figures`` and per size: every fit's iterations, the top-K timings, peak memory.
    """
    settings = Settings() if quick else Settings(rounds=3, quiet_per_wait=60.0, quiet_budget=300.0)
    sizes = ["quick"] if quick else ["quick", "full"]
    quiet = QuietWaiter(settings.quiet_below, settings.quiet_per_wait, settings.quiet_budget)
    results = {size: measure_size(size, settings, quiet) for size in sizes}
    return {
        "command": COMMAND,
        "seeds": {"matrix": settings.seed, "factors": 0},
        "settings": {**asdict(settings), "cgSteps": 3, "dtype": "float32", "blasThreads": 1},
        "figures": _figures(results, settings),
        "secondsWaitedForAQuietMachine": round(quiet.waited, 1),
        "sizes": results,
    }


def _label(entry: dict[str, Any]) -> str:
    return f"{entry['users'] // 1000}k users x {entry['items'] // 1000}k items x {entry['nnz'] / 1e6:g}M"


def _figures(results: dict[str, Any], settings: Settings) -> list[Figure]:
    area = "Training speed"
    rows: list[Figure] = []
    for entry in results.values():
        label, als = _label(entry), entry["als"]
        ours, theirs = als["ours"], als["implicit"]
        rows.append(
            figure(
                area,
                f"seconds per ALS iteration, recs, {label} ({settings.factors} factors, "
                f"{settings.threads} threads)",
                ours["median_s_per_iteration"],
                "s",
                baseline="implicit 0.7.2, same data and settings",
                baseline_value=theirs["median_s_per_iteration"],
                goal="<= 1.5 x implicit",
                met=als["goal_met"],
                note=f"median of {settings.rounds} alternating fits x {settings.iterations - 1} iterations",
            )
        )
        rows.append(
            figure(
                area,
                f"CPU seconds per ALS iteration, recs, {label}",
                ours["median_cpu_s_per_iteration"],
                "s",
                baseline="implicit",
                baseline_value=theirs["median_cpu_s_per_iteration"],
            )
        )
        topk = entry["topk"]
        bare = min(topk["bare_multiply_blas_threads_s"], topk["bare_multiply_parallel_blocks_s"])
        rows.append(
            figure(
                area,
                f"top-10 of {topk['users'] // 1000}k users over {topk['items'] // 1000}k items "
                "(seen excluded)",
                topk["topk_s"],
                "s",
                baseline="the bare block multiply of the same scores",
                baseline_value=bare,
                goal="<= 2 x the multiply (selection adds no more than it)",
                met=topk["topk_s"] <= 2 * bare,
                digits=3,
            )
        )
        memory = entry["peakMemory"]
        rows.append(
            figure(
                area,
                f"peak memory of an ALS fit above the input, recs, {label}",
                memory["ours"]["fitPeakExtraMiB"],
                "MiB",
                baseline="implicit",
                baseline_value=memory["implicit"]["fitPeakExtraMiB"],
                digits=1,
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, lambda quick: run(quick=quick), argv)


if __name__ == "__main__":
    raise SystemExit(main())
