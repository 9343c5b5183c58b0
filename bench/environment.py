"""What a benchmark result must say about where it was measured, and waiting for a quiet machine.

A timing means little without the machine behind it, and on a shared machine other tenants'
jobs move it; so every result records the CPU, cores, memory, OS, Python, library versions and
git revision, and timing-sensitive benchmarks wait for a quiet moment and record the load they saw.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Libraries whose versions change the figures (missing ones are recorded as None).
PACKAGES = (
    "recs",
    "numpy",
    "scipy",
    "threadpoolctl",
    "implicit",
    "recbole",
    "pandas",
    "pyarrow",
    "pydantic",
    "pydantic-core",
    "pydantic-settings",
    "aws-lambda-powertools",
    "boto3",
    "botocore",
    "moto",
    "redis",
)


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """A benchmark's result as JSON on stdout (numpy scalars and arrays as plain values)."""

    def plain(value: Any) -> Any:
        return value.tolist() if hasattr(value, "tolist") else str(value)

    sys.stdout.write(json.dumps(result, indent=1, default=plain) + "\n")


def child_result(
    module: str, arguments: list[str], environment: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``python -m <module> <arguments>`` in a fresh process (its memory and imports its own),
    started with ``environment`` (default: this process's); the JSON of its last line of output."""
    command = [sys.executable, "-m", module, *arguments]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, env=environment
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(arguments)} failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def quiet_known_warnings() -> None:
    """Powertools warns on every request that adds no metric of its own; benchmarks call
    handlers thousands of times."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def cpu_model() -> str:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model
        )
    return model


def memory_gib() -> float | None:
    with (
        contextlib.suppress(OSError, ValueError, IndexError),
        open("/proc/meminfo", encoding="utf-8") as meminfo,
    ):
        return round(int(meminfo.readline().split()[1]) / 2**20, 1)
    return None


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def redis_server_version() -> str | None:
    try:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def _git(*args: str) -> str | None:
    """A read-only git command's output in the repository, or None when git cannot answer.

    Not stripped: a porcelain status line starts with a space when only the work tree changed.
    """
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


#: What the suite writes itself (and documentation): changes there alter nothing measured, and a
#: full run rewrites them one benchmark after another.
OUTPUTS = ("bench/results/", "docs/")


def work_tree_changes() -> list[str] | None:
    """``git status --porcelain`` lines of tracked files changed since HEAD; None when git cannot tell.

    Untracked files are left out: new code only runs once a tracked file imports it, and that
    file then shows as changed; scratch files (build output, notes) change nothing measured. So
    are the suite's own outputs (`OUTPUTS`): a full run writes each benchmark's results before
    the next one starts.
    """
    status = _git("status", "--porcelain", "--untracked-files=no")
    if status is None:
        return None
    return [line for line in status.splitlines() if line.strip() and not _is_output(line)]


def _is_output(status_line: str) -> bool:
    """A porcelain line ("XY path", or "XY old -> new") about the suite's outputs only."""
    paths = status_line[3:].split(" -> ")
    return all(path.strip('"').startswith(OUTPUTS) for path in paths)


def git_revision() -> dict[str, Any]:
    """HEAD and whether the work tree had uncommitted changes (read-only git commands)."""
    changes = work_tree_changes()
    head = _git("rev-parse", "HEAD")
    return {
        "commit": head.strip() if head is not None else None,
        "uncommittedChanges": bool(changes) if changes is not None else None,
    }


def describe_machine() -> dict[str, Any]:
    """The machine, interpreter and libraries of this run."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memoryGiB": memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "redisServer": redis_server_version(),
        "packages": package_versions(),
        "git": git_revision(),
    }


def load_average() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def cpu_busy_percent(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over ``seconds`` (including this process)."""
    try:
        with open("/proc/stat", encoding="utf-8") as stat:
            before = [int(v) for v in stat.readline().split()[1:]]
        time.sleep(seconds)
        with open("/proc/stat", encoding="utf-8") as stat:
            after = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    delta = [b - a for a, b in zip(before, after, strict=False)]
    idle = delta[3] + delta[4]
    return round(100.0 * (sum(delta) - idle) / max(sum(delta), 1), 1)


def wait_until_quiet(threshold: float, timeout: float) -> float | None:
    """Wait up to ``timeout`` seconds until other processes use less than ``threshold`` % of the CPUs.

    Returns the load last seen, which the caller records: a neighbour's job can double a
    timing, so a figure measured under load says so instead of hiding it.
    """
    deadline = time.monotonic() + timeout
    busy = cpu_busy_percent()
    while busy is not None and busy >= threshold and time.monotonic() < deadline:
        log(f"  waiting for a quiet machine: CPU {busy}% busy >= {threshold}%")
        time.sleep(3)
        busy = cpu_busy_percent(2.0)
    return busy


#: Multiplies every QuietWaiter's waits (``python -m bench --patience``, passed to each
#: benchmark process in this variable): a run meant to be committed can afford to wait longer
#: for a quiet machine than a quick check.
PATIENCE_VARIABLE = "BENCH_PATIENCE"


class QuietWaiter:
    """`wait_until_quiet` with a total budget, so a long-busy neighbour cannot stall the suite.

    Parameters
    ----------
    threshold
        Busy share of all CPUs (percent) below which the machine counts as quiet.
    per_wait
        Longest single wait, seconds.
    budget
        Total seconds all waits together may take; once spent, measurements go ahead at once
        (their recorded load says how busy the machine was).
    """

    def __init__(self, threshold: float, per_wait: float, budget: float) -> None:
        patience = float(os.environ.get(PATIENCE_VARIABLE) or 1.0)
        self.threshold = threshold
        self.per_wait = per_wait * patience
        self.remaining = budget * patience
        self.waited = 0.0

    def __call__(self) -> float | None:
        began = time.monotonic()
        busy = wait_until_quiet(self.threshold, max(0.0, min(self.per_wait, self.remaining)))
        spent = time.monotonic() - began
        self.remaining -= spent
        self.waited += spent
        return busy


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Handlers' structured logs and EMF metrics go to /dev/null: they would not slow a Lambda."""
    saved = sys.stdout
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        sys.stdout = devnull
        try:
            yield
        finally:
            sys.stdout = saved


def benchmark_main(
    doc: str | None,
    run: Callable[[bool], dict[str, Any]],
    argv: Sequence[str] | None,
    quick_help: str | None = None,
) -> int:
    """The command line every benchmark module shares: ``[--quick]``, JSON result on stdout."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args(argv)
    quiet_known_warnings()
    emit(run(args.quick))
    return 0
