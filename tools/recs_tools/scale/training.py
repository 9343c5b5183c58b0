"""``python -m recs_tools.scale.training``: how big a window one training Lambda can handle.

Measures, on this machine, the stages of a run at growing sizes, on an interactions table drawn
at the size (power-law item popularity, shoppers with Poisson-many interactions, the event mix and
sessions of a shop), through the `recs.training.build` steps:

* ``signals``, ``fit``, ``search_fit`` (one fit of the parameter search, its unit cost),
  ``session_choice`` (the session path's lists and merge, chosen after the search),
  ``train_version``, ``evaluate`` and ``rank_all_users`` (top-K of every user, after
  ``train_version``);
* ``train_step`` (at the sizes ``--whole-step-at`` names): the Train step as the training
  function runs it, search included, told the function's 900 s deadline when it starts (the
  artifacts' load before it and store after it are not timed: in memory here).

Each stage runs in a fresh process that draws the table, so that its peak memory is its own, as
the workflow's steps are invocations of their own: the peak is reset once the table is drawn
(``/proc/self/clear_refs``), and counts the table, what the stage needs from the stages before it
(the signals for ``fit``) and the stage itself. A size's ``peakRssMiB`` is the largest of the
Train step's parts (``search_fit``, ``session_choice``, ``train_version``) and the Evaluate step;
``trainStep.peakRssMiB``, where the whole step ran, is the check on it.

Prints one JSON line per size; ``docs/training.md`` records a run and the extrapolation. Prepare
is measured by the benchmarks over a lake of the shop's records as ingest writes them
(``python -m bench --only prepare_speed``), not here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import EVENT_CODES, Interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs_tools.deploy.cost import LAMBDA_SECONDS
from recs_tools.process_memory import reset_peak_rss, status_kib

DAY = SECONDS_PER_DAY
#: Event mix of the synthetic demo shop (share of views, clicks, carts, purchases, result clicks).
EVENT_MIX = {"view": 0.62, "click": 0.22, "add_to_cart": 0.08, "purchase": 0.04, "search_result_click": 0.04}
#: The stages, each measured in a process of its own, in the order they run.
STAGES = ("signals", "fit", "search_fit", "session_choice", "train_version", "evaluate")
WHOLE_STEP = "train_step"
#: The stages whose peaks bound the workflow's steps: the Train step's parts and the Evaluate step.
STEP_STAGES = ("search_fit", "session_choice", "train_version", "evaluate")


def synthetic_interactions(users: int, items: int, per_user: float, seed: int) -> Interactions:
    """A shop-like interactions table of about ``users * per_user`` rows."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(per_user - 1, size=users) + 1
    n = int(counts.sum())
    user = np.repeat(np.arange(users, dtype=np.int32), counts)
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    item = rng.choice(items, size=n, p=popularity / popularity.sum()).astype(np.int32)
    codes = np.array([EVENT_CODES[name] for name in EVENT_MIX], dtype=np.int8)
    event = rng.choice(codes, size=n, p=np.array(list(EVENT_MIX.values())) / sum(EVENT_MIX.values()))
    end = 1_800_000_000.0
    timestamp = end - rng.uniform(0, 90 * DAY, size=n)
    basket = (user.astype(np.int32) * 8 + rng.integers(0, 8, size=n)).astype(np.int32)
    return Interactions(
        users=[f"u{u}" for u in range(users)],
        is_user=np.ones(users, dtype=np.bool_),
        items=[f"p{i}" for i in range(items)],
        item_category=[f"c{i % 50}" for i in range(items)],
        user=user,
        item=item,
        event=event.astype(np.int8),
        timestamp=timestamp,
        quantity=np.ones(n, dtype=np.float32),
        basket=basket,
    )


def reset_peak() -> bool:
    """Start this process's peak resident memory again from what it holds now
    (`recs_tools.process_memory.reset_peak_rss`); False where that is not possible, and the peak
    then counts from its start."""
    try:
        reset_peak_rss()
    except (OSError, RuntimeError):
        return False
    return True


def peak_mib() -> float:
    """This process's peak resident memory (since `reset_peak`), in MiB."""
    try:
        kib = status_kib("VmHWM")
    except (OSError, RuntimeError):
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024, 1)


def measure_stage(
    stage: str, users: int, items: int, per_user: float, threads: int, seed: int
) -> dict[str, Any]:
    """One stage at one size, in this process: its seconds and its own peak memory."""
    if stage not in (*STAGES, WHOLE_STEP):
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join((*STAGES, WHOLE_STEP))}")
    from recs.training.build import evaluate_version, train_version, user_lists
    from recs.training.deadline import Deadline
    from recs.training.evaluate.search import search
    from recs.training.fit.fitting import fit
    from recs.training.fit.session_lists import choose_session_lists
    from recs.training.fit.signals import derive_signals

    params = TrainingParameters(model_family="als", als_threads=threads)
    interactions = synthetic_interactions(users, items, per_user, seed)
    unavailable = np.zeros(items, dtype=np.bool_)
    end = float(interactions.timestamp.max()) + 1
    signals = derive_signals(interactions, params, now_ts=end) if stage == "fit" else None
    result: dict[str, Any] = {"interactions": len(interactions), "seconds": {}}
    own_peak = reset_peak()
    began = time.perf_counter()
    if stage == "signals":
        result["nnz"] = int(derive_signals(interactions, params, now_ts=end).confidence.nnz)
    elif stage == "fit":
        assert signals is not None
        fit("als", signals.confidence, params)
    elif stage == "search_fit":
        # One fit of the parameter search (validation split, fit, mix search): its unit cost. A
        # run's search spends at most tuning_budget_seconds plus the fit under way.
        search(interactions, unavailable, params.model_copy(update={"tuning_max_fits": 1}), end_ts=end)
    elif stage == "session_choice":
        # The session path's choice after the search: its lists and how serving merges them.
        choose_session_lists(interactions, unavailable, params)
    elif stage == "train_version":
        trained = train_version(
            interactions, unavailable, interactions.item_category, params, end_ts=end, chosen=params
        )
    elif stage == "evaluate":
        evaluate_version(interactions, unavailable, params, end_ts=end, family="als", current_lift=None)
    else:
        # The whole Train step as the training function runs it: search (told the deadline), the
        # session path's choice, the fit on the whole window and its lists.
        stepped = train_version(
            interactions,
            unavailable,
            interactions.item_category,
            params,
            end_ts=end,
            deadline=Deadline.after(LAMBDA_SECONDS),
        )
        search_record = stepped.selection or {}
        result["trainStep"] = {
            "deadlineSeconds": LAMBDA_SECONDS,
            "searchSeconds": search_record.get("seconds"),
            "fits": search_record.get("fits"),
            "stoppedBy": search_record.get("stoppedBy"),
            "fitSeconds": [trial["seconds"] for trial in search_record.get("trials", [])],
        }
    result["seconds"][stage] = round(time.perf_counter() - began, 2)
    result["peakRssMiB"] = peak_mib()
    result["peakCounts"] = "the stage and the table" if own_peak else "the whole process"
    if stage == "train_version":
        # Top-K of every user, in blocks, as the publish shards rank them (time only: a shard's
        # invocation holds one shard, not the whole trained version).
        began = time.perf_counter()
        everyone = np.arange(users, dtype=np.int64)
        for start in range(0, users, 50_000):
            user_lists(trained, everyone[start : start + 50_000], unavailable, num_threads=threads)
        result["seconds"]["rank_all_users"] = round(time.perf_counter() - began, 2)
    return result


def size_row(
    users: int, items: int, threads: int, stages: dict[str, dict[str, Any]], *, search_budget: float
) -> dict[str, Any]:
    """One size's line from its stages' measurements."""
    params = TrainingParameters(model_family="als", als_threads=threads)
    seconds: dict[str, float] = {}
    for measured in stages.values():
        seconds.update(measured["seconds"])
    peaks = {stage: measured["peakRssMiB"] for stage, measured in stages.items()}
    row: dict[str, Any] = {
        "stage": "model",
        "users": users,
        "items": items,
        "interactions": next(iter(stages.values()))["interactions"],
        "nnz": stages["signals"]["nnz"],
        "factors": params.als_factors,
        "iterations": params.als_iterations,
        "threads": threads,
        "seconds": seconds,
        "searchBudgetSeconds": search_budget,
        "stagePeakRssMiB": {stage: peak for stage, peak in peaks.items() if stage != WHOLE_STEP},
        "peakRssMiB": max(peaks[stage] for stage in STEP_STAGES),
        "peakCounts": sorted({measured["peakCounts"] for measured in stages.values()}),
    }
    if WHOLE_STEP in stages:
        row["trainStep"] = {**stages[WHOLE_STEP]["trainStep"], "peakRssMiB": peaks[WHOLE_STEP]}
    return row


def _child(argv: Sequence[str]) -> None:
    stage, users, items, threads, per_user = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4])
    result = measure_stage(stage, users, items, per_user, threads, seed=1)
    sys.stdout.write(json.dumps(result) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.scale.training", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes", nargs="*", default=["10000x2000", "100000x10000", "400000x20000"], help="USERSxITEMS"
    )
    parser.add_argument("--per-user", type=float, default=40.0, help="interactions per user")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--whole-step-at",
        nargs="*",
        default=[],
        help="USERSxITEMS sizes (of --sizes) at which the whole Train step is also timed",
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    # BLAS pinned to one thread so the solver's own threads scale (recs.engine._threads).
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    whole_step_at = {size.lower() for size in args.whole_step_at}
    budget = TrainingParameters().tuning_budget_seconds
    for size in args.sizes:
        users, items = (int(part) for part in size.lower().split("x"))
        stages: dict[str, dict[str, Any]] = {}
        for stage in (*STAGES, *([WHOLE_STEP] if size.lower() in whole_step_at else [])):
            command = [
                sys.executable,
                "-m",
                "recs_tools.scale.training",
                "--child",
                stage,
                str(users),
                str(items),
                str(args.threads),
                str(args.per_user),
            ]
            result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if result.returncode != 0:
                sys.stderr.write(result.stderr)
                return result.returncode
            stages[stage] = json.loads(result.stdout.strip().splitlines()[-1])
        row = size_row(users, items, args.threads, stages, search_budget=budget)
        sys.stdout.write(json.dumps(row) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
