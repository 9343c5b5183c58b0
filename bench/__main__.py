"""``python -m bench --quick | --full [--only NAME ...]``: run the benchmarks, write results and the doc.

Each benchmark of `bench.registry` runs in turn, in its own process (``python -m
bench.<module> [--quick]``, JSON on stdout); its result, stamped with the machine, the
versions, the git revision, the date and its wall time, goes to ``bench/results/<name>.json``.
A failing benchmark is recorded as failed and the others still run. Then ``docs/benchmarks.md``
is generated from every results file present (`bench.report`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.environment import PATIENCE_VARIABLE, REPO_ROOT, describe_machine, load_average, log
from bench.registry import Benchmark, by_name
from bench.report import write_report

RESULTS_DIR = REPO_ROOT / "bench" / "results"
DOC_PATH = REPO_ROOT / "docs" / "benchmarks.md"
SUITE_FILE = "suite.json"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def run_one(benchmark: Benchmark, quick: bool, machine: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark in a fresh interpreter and stamp its result; a failure is recorded.

    A process per benchmark keeps them independent: no module, cache, thread pool or heap
    state of one benchmark shapes the next one's timings or memory.
    """
    started_at, load_before = _now(), load_average()
    began = time.perf_counter()
    command = [sys.executable, "-m", benchmark.module, *(["--quick"] if quick else [])]
    done = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode == 0:
        result, status = json.loads(done.stdout), "ok"
    else:
        result = {"figures": [], "error": f"`{' '.join(command[1:])}` exited with {done.returncode}"}
        status = "failed"
    return {
        "benchmark": benchmark.name,
        "area": benchmark.area,
        "summary": benchmark.summary,
        "mode": "quick" if quick else "full",
        "status": status,
        "startedAt": started_at,
        "wallSeconds": round(wall, 1),
        "loadAverage1m": {"before": load_before, "after": load_average()},
        "machine": machine,
        "description": benchmark.description(),
        **result,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small sizes (under 10 minutes on 2 cores)")
    mode.add_argument("--full", action="store_true", help="every size (documents its own run time)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="directory of the JSON results")
    parser.add_argument("--doc", type=Path, default=DOC_PATH, help="the generated Markdown report")
    parser.add_argument("--no-doc", action="store_true", help="write the results only")
    parser.add_argument(
        "--patience",
        type=float,
        default=1.0,
        help="multiply the waits for a quiet machine before timings (default 1)",
    )
    args = parser.parse_args(argv)
    os.environ[PATIENCE_VARIABLE] = str(args.patience)  # read by every benchmark process

    benchmarks = by_name(args.only)
    args.results.mkdir(parents=True, exist_ok=True)
    machine = describe_machine()
    command = "make bench-quick" if args.quick else "make bench"
    if args.only:
        command = f"python -m bench {'--quick' if args.quick else '--full'} --only {' '.join(args.only)}"
    suite: dict[str, Any] = {
        "command": command,
        "startedAt": _now(),
        "patience": args.patience,
        "benchmarks": {},
    }
    began = time.perf_counter()
    failed = []
    for benchmark in benchmarks:
        log(f"== {benchmark.name} ({'quick' if args.quick else 'full'})")
        result = run_one(benchmark, args.quick, machine)
        path = args.results / f"{benchmark.name}.json"
        path.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
        suite["benchmarks"][benchmark.name] = {
            "status": result["status"],
            "wallSeconds": result["wallSeconds"],
        }
        log(f"== {benchmark.name}: {result['status']} in {result['wallSeconds']} s -> {path}")
        if result["status"] != "ok":
            failed.append(benchmark.name)
    suite["wallSeconds"] = round(time.perf_counter() - began, 1)
    suite["mode"] = "quick" if args.quick else "full"
    suite["machine"] = machine
    if not args.only:  # a partial run keeps the last whole run's total (each result has its own time)
        (args.results / SUITE_FILE).write_text(json.dumps(suite, indent=1) + "\n", encoding="utf-8")
    if not args.no_doc:
        write_report(args.results, args.doc)
        log(f"wrote {args.doc}")
    log(f"suite: {suite['wallSeconds']} s; failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
