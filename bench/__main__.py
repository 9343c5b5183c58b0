"""``python -m bench --quick | --full [--only NAME ...]``: run the benchmarks, write results and the doc.

Each benchmark of `bench.registry` runs in turn, in its own process (``python -m
bench.<module> [--quick]``, JSON on stdout); its result, stamped with the machine, the
versions, the git revision, the date and its wall time, goes to ``bench/results/<name>.json``
(``--full``) or ``build/bench-quick/<name>.json`` (``--quick``). A failing benchmark is recorded
as failed and the others still run. Then the report is generated from every results file
present (`bench.report`): ``docs/benchmarks.md`` and docs/training.md's quality block for a full
run, ``build/bench-quick/benchmarks.md`` for a quick one.

A full run is the committed record, and each of its results names the commit it ran on; so it
refuses to start from a work tree with uncommitted changes to tracked files (exit status 2):
nobody could check that commit out and get the code that was measured. A quick run may run
from a dirty tree; its report marks those sections.
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

from bench.environment import (
    PATIENCE_VARIABLE,
    REPO_ROOT,
    describe_machine,
    git_revision,
    load_average,
    log,
    work_tree_changes,
)
from bench.registry import Benchmark, by_name
from bench.report import BENCHMARKS_DOC, RESULTS_DIR, SUITE_FILE, write_report

QUICK_DIR = REPO_ROOT / "build" / "bench-quick"
#: Exit status of a refused run (as argparse's for a bad command line: nothing was run).
REFUSED = 2


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def default_paths(*, full: bool) -> tuple[Path, Path]:
    """Where a run writes its results and its report unless told otherwise.

    Only a full run writes the committed record; a quick one stays under build/, so running it
    from a dirty tree never touches bench/results or docs/.
    """
    return (RESULTS_DIR, BENCHMARKS_DOC) if full else (QUICK_DIR, QUICK_DIR / "benchmarks.md")


def dirty_tree_refusal(changes: list[str] | None) -> str | None:
    """Why a full run must not start, given ``git status --porcelain`` lines; None when it may."""
    if changes is None:
        return (
            "python -m bench --full: git cannot tell whether the work tree is clean, and a full run's"
            " results must name the commit they ran on; run it from a git checkout."
        )
    if not changes:
        return None
    # A porcelain line is "XY path" (or "XY old -> new" for a rename).
    files = "\n".join(f"  {line[3:]}" for line in changes)
    return (
        "python -m bench --full refuses to run from a work tree with uncommitted changes: its"
        " results are the committed record and must name the commit they ran on. Changed files:\n"
        f"{files}\nCommit them (or set them aside) and re-run, or use `make bench-quick`, which"
        " writes under build/bench-quick and may run from a dirty tree."
    )


def git_across(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """One benchmark's git stamp: clean only if the tree stayed clean at one commit while it ran.

    Its process imports code lazily, so a commit or an edit during the run may be part of what
    was measured; such a result is recorded as dirty (and refused in the published report).
    """
    if before == after:
        return before
    return {**before, "uncommittedChanges": True, "changedDuringRun": after}


def run_one(benchmark: Benchmark, quick: bool, machine: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark in a fresh interpreter and stamp its result; a failure is recorded.

    A process per benchmark keeps them independent: no module, cache, thread pool or heap
    state of one benchmark shapes the next one's timings or memory.
    """
    started_at, load_before, git_before = _now(), load_average(), git_revision()
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
        "machine": {**machine, "git": git_across(git_before, git_revision())},
        "description": benchmark.description(),
        **result,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small sizes (under 10 minutes on 2 cores)")
    mode.add_argument("--full", action="store_true", help="every size (documents its own run time)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument(
        "--results",
        type=Path,
        help=f"directory of the JSON results (default: {RESULTS_DIR.relative_to(REPO_ROOT)} for --full,"
        f" {QUICK_DIR.relative_to(REPO_ROOT)} for --quick)",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        help=f"the generated Markdown report (default: {BENCHMARKS_DOC.relative_to(REPO_ROOT)} for --full,"
        f" {QUICK_DIR.relative_to(REPO_ROOT)}/benchmarks.md for --quick)",
    )
    parser.add_argument("--no-doc", action="store_true", help="write the results only")
    parser.add_argument(
        "--patience",
        type=float,
        default=1.0,
        help="multiply the waits for a quiet machine before timings (default 1)",
    )
    args = parser.parse_args(argv)
    if args.full:
        refusal = dirty_tree_refusal(work_tree_changes())
        if refusal is not None:
            log(refusal)
            return REFUSED
    default_results, default_doc = default_paths(full=args.full)
    args.results = args.results or default_results
    args.doc = args.doc or default_doc
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
