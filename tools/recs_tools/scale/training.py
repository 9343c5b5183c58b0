"""``python -m recs_tools.scale.training``: how big a window one training Lambda can handle.

Measures, on this machine, the stages of a run at growing sizes, each size in a fresh process
(so peak memory is that size's own):

* ``signals``, ``fit``, ``search_fit`` (one fit of the parameter search, its unit cost),
  ``session_choice`` (the session path's lists and merge, chosen after the search),
  ``train_version``, ``evaluate``, ``rank``: the `recs.training.build` steps
  on an interactions table drawn at the size (power-law item popularity, shoppers with
  Poisson-many interactions, the event mix and sessions of a shop);
* ``train_step`` (at the sizes ``--whole-step-at`` names): the Train step as the training
  function runs it, search included, told the function's 900 s deadline when it starts (the
  artifacts' load before it and store after it are not timed: in memory here).

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

DAY = SECONDS_PER_DAY
#: Event mix of the synthetic demo shop (share of views, clicks, carts, purchases, result clicks).
EVENT_MIX = {"view": 0.62, "click": 0.22, "add_to_cart": 0.08, "purchase": 0.04, "search_result_click": 0.04}


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


def measure_model(
    users: int, items: int, per_user: float, threads: int, seed: int, *, whole_step: bool = False
) -> dict[str, Any]:
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
    timings: dict[str, float] = {}

    def timed(name: str, began: float) -> None:
        timings[name] = round(time.perf_counter() - began, 2)

    began = time.perf_counter()
    signals = derive_signals(interactions, params, now_ts=end)
    timed("signals", began)
    began = time.perf_counter()
    fit("als", signals.confidence, params)
    timed("fit", began)
    began = time.perf_counter()
    # One fit of the parameter search (validation split, fit, mix search): its unit cost. A run's
    # search spends at most tuning_budget_seconds plus the fit under way.
    search(interactions, unavailable, params.model_copy(update={"tuning_max_fits": 1}), end_ts=end)
    timed("search_fit", began)
    began = time.perf_counter()
    # The session path's choice after the search: its lists and how serving merges them.
    choose_session_lists(interactions, unavailable, params)
    timed("session_choice", began)
    began = time.perf_counter()
    trained = train_version(
        interactions, unavailable, interactions.item_category, params, end_ts=end, chosen=params
    )
    timed("train_version", began)
    began = time.perf_counter()
    evaluate_version(interactions, unavailable, params, end_ts=end, family="als", current_lift=None)
    timed("evaluate", began)
    began = time.perf_counter()
    everyone = np.arange(users, dtype=np.int64)
    for start in range(0, users, 50_000):
        user_lists(trained, everyone[start : start + 50_000], unavailable, num_threads=threads)
    timed("rank_all_users", began)
    step: dict[str, Any] = {}
    if whole_step:
        # The Train step as the training function runs it: search (told the deadline), the
        # session path's choice, the fit on the whole window and its lists.
        began = time.perf_counter()
        stepped = train_version(
            interactions,
            unavailable,
            interactions.item_category,
            params,
            end_ts=end,
            deadline=Deadline.after(LAMBDA_SECONDS),
        )
        timed("train_step", began)
        search_record = stepped.selection or {}
        step = {
            "trainStep": {
                "deadlineSeconds": LAMBDA_SECONDS,
                "searchSeconds": search_record.get("seconds"),
                "fits": search_record.get("fits"),
                "stoppedBy": search_record.get("stoppedBy"),
                "fitSeconds": [trial["seconds"] for trial in search_record.get("trials", [])],
            }
        }
    return {
        "stage": "model",
        "users": users,
        "items": items,
        "interactions": len(interactions),
        "nnz": int(signals.confidence.nnz),
        "factors": params.als_factors,
        "iterations": params.als_iterations,
        "threads": threads,
        "seconds": timings,
        "searchBudgetSeconds": params.tuning_budget_seconds,
        **step,
    }


def _child(argv: Sequence[str]) -> None:
    users, items, threads = (int(v) for v in argv[:3])
    whole_step = len(argv) > 4 and argv[4] == "whole-step"
    result = measure_model(users, items, float(argv[3]), threads, seed=1, whole_step=whole_step)
    result["peakRssMiB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
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
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    # BLAS pinned to one thread so the solver's own threads scale (recs.engine._threads).
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    runs: list[list[str]] = []
    for size in args.sizes:
        users, items = size.lower().split("x")
        whole_step = ["whole-step"] if size.lower() in {s.lower() for s in args.whole_step_at} else []
        runs.append([users, items, str(args.threads), str(args.per_user), *whole_step])
    for run in runs:
        command = [sys.executable, "-m", "recs_tools.scale.training", "--child", *run]
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            return result.returncode
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
