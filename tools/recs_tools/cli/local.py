"""``recs local`` (the local stack, serving) and ``recs demo`` (the whole product, then serving)."""

from __future__ import annotations

import argparse
import logging
import os
import threading
from pathlib import Path

from recs_tools import progress
from recs_tools.cli.errors import MISSING, CliError

LOCAL_EXAMPLES = """examples:
  recs local                      # API on http://127.0.0.1:3000, empty tables, until Ctrl-C
  recs local --train-every 600    # ... and a training run every 10 minutes, as the schedule would
  recs local --port 8080 --reports build/reports

Your own shop: POST its events to /api/events, start a training run with
`curl -X POST http://127.0.0.1:3000/local/training-runs`, follow it at
/local/training-runs/<id>, then ask /api/recommendations. The stack lives in this process
(moto); `recs demo` fills it with a synthetic shop instead."""

DEMO_EXAMPLES = """examples:
  recs demo                       # what `make demo` runs: shop -> ingest -> training -> reports
  recs demo --preset test --exit  # a small shop, stop when ready
  recs demo --port 8080 --verbose"""


def configure_local(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    parser.add_argument(
        "--train-every",
        type=_positive_seconds,
        metavar="SECONDS",
        help="start a training run at once and then every SECONDS (as the schedule does in AWS)",
    )
    parser.add_argument(
        "--reports", type=Path, help="a folder of reports to serve under /reports/ (from `recs report`)"
    )
    parser.add_argument("--verbose", action="store_true", help="show the functions' logs and metrics")


def configure_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    from recs_tools.synthetic.presets import preset_names

    parser.add_argument(
        "--preset", default="demo", choices=preset_names(), help="synthetic shop preset (default demo)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the synthetic shop (default 42)")
    parser.add_argument("--exit", action="store_true", help="stop after the demo instead of serving")
    parser.add_argument("--verbose", action="store_true", help="show the functions' logs and metrics")


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not seconds >= 10:
        raise argparse.ArgumentTypeError("at least 10 seconds")
    return seconds


def _redis_hint() -> None:
    from recs_tools.local.redis_server import redis_binary

    if redis_binary() is None:
        progress.note(
            "recs: redis-server is not installed, so serving runs without a cache; run `make redis`"
        )


def _quiet(verbose: bool) -> None:
    if not verbose:
        # The functions log JSON lines (as in CloudWatch); the console stays readable.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        logging.basicConfig(level=logging.WARNING)


def run_demo(args: argparse.Namespace) -> int:
    _redis_hint()
    from recs_tools.local.__main__ import main as local_main

    argv = ["demo", "--port", str(args.port), "--preset", args.preset, "--seed", str(args.seed)]
    argv += ["--exit"] if args.exit else []
    argv += ["--verbose"] if args.verbose else []
    return local_main(argv)


def run_local(args: argparse.Namespace) -> int:
    if args.reports is not None and not args.reports.is_dir():
        raise CliError(
            f"{args.reports}: no such folder; write it with `recs report --out {args.reports}`", MISSING
        )
    _redis_hint()
    _quiet(args.verbose)
    from recs_tools.local.http import LocalApiServer
    from recs_tools.local.reports import REPORTS_PREFIX
    from recs_tools.local.stack import LocalStack

    print("starting the local stack from template.yaml (moto; no AWS account, no Docker)...")
    with LocalStack(parameter_overrides={"LogLevel": "INFO" if args.verbose else "WARNING"}) as stack:
        static = {REPORTS_PREFIX: args.reports} if args.reports else None
        try:
            server = LocalApiServer(stack, port=args.port, static=static).start()
        except OSError as error:
            raise CliError(
                f"cannot listen on port {args.port} ({error}); pick another with --port", MISSING
            ) from error
        print(f"API listening on {server.url} (empty tables: `recs demo` loads a shop); Ctrl-C stops it")
        print(f"training: curl -X POST {server.url}/local/training-runs, then GET the run it names")
        if args.reports:
            print(f"reports: {server.url}{REPORTS_PREFIX}")
        stop = threading.Event()
        if args.train_every:
            threading.Thread(
                target=server.training_runs.every, args=(args.train_every, stop), daemon=True
            ).start()
        try:
            server.serve_until_interrupted()
        finally:
            stop.set()
    return 0
