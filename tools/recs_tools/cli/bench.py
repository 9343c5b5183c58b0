"""``recs bench``: the benchmarks (`bench/`, what ``make bench`` and ``make bench-quick`` run)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

from recs_tools.cli.errors import MISSING, CliError

EXAMPLES = """examples:
  recs bench --quick                        # as `make bench-quick`: small sizes, into build/bench-quick
  recs bench --quick --only serving ingest_throughput
  recs bench --full                         # as `make bench`: every figure, docs/benchmarks.md

Runs from a checkout of the repository (the bench/ package is not installed with recs);
needs redis-server (`make redis`) and the benchmark extras (`make bench-deps`)."""


def configure(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small sizes, results under build/bench-quick")
    mode.add_argument("--full", action="store_true", help="every size; rewrites bench/results and the doc")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")


def _checkout() -> Path:
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "bench" / "__main__.py").is_file() and (folder / "template.yaml").is_file():
            return folder
    raise CliError("recs bench runs inside a checkout of the repository: cd into it first", MISSING)


def command(args: argparse.Namespace) -> list[str]:
    """The ``python -m bench`` command line the Makefile's bench targets use."""
    if args.full:
        argv = ["--full", "--patience", "3"]
    else:
        argv = ["--quick", "--results", "build/bench-quick", "--doc", "build/bench-quick/benchmarks.md"]
    if args.only:
        argv += ["--only", *args.only]
    return [sys.executable, "-m", "bench", *argv]


def run(args: argparse.Namespace) -> int:
    root = _checkout()
    from recs_tools.local.redis_server import redis_binary

    if redis_binary() is None:
        raise CliError("redis-server is not installed: run `make redis`", MISSING)
    if importlib.util.find_spec("implicit") is None:
        raise CliError("the benchmark extras are not installed: run `make bench-deps`", MISSING)
    return subprocess.run(command(args), cwd=root, check=False).returncode
