"""``recs train`` and ``recs tune``: offline training and tuning on local event files.

``--params FILE`` reads a JSON object of training parameters (what ``recs tune --out`` writes,
or its ``parameters`` member); ``--param K=V`` overrides one (V is JSON or a plain string).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from recs_tools import progress
from recs_tools.argtypes import aware_datetime, key_value
from recs_tools.cli.errors import USAGE, CliError

TRAIN_EXAMPLES = """examples:
  recs train --events events.jsonl --out out/
  recs train --events events.parquet --catalog catalog.jsonl --out out/ --param als_factors=64
  recs train --events events.jsonl.gz --out out/ --params tuned.json --now 2026-11-01T00:00:00Z

writes out/recommendations.jsonl, similar_items.jsonl, popular.json and evaluation.json, and
prints a JSON summary; then `recs report --offline out/ --events events.jsonl` shows it."""

TUNE_EXAMPLES = """examples:
  recs tune --events events.jsonl --trials 48 --out tuned.json
  recs train --events events.jsonl --out out/ --params tuned.json

every `recs train` already searches within its budget (auto_tune); `recs tune` runs the same
search with more fits and prints where every run's search should start."""


def _override(text: str) -> tuple[str, Any]:
    key, value = key_value(text)
    # Parameter names are case-insensitive on the command line, as in the environment.
    return key.strip().lower(), value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=Path, required=True, help="JSONL (.gz) or Parquet events")
    parser.add_argument("--catalog", type=Path, help="catalog JSONL: {id, category, available} per line")
    parser.add_argument(
        "--now", type=aware_datetime, help="end of the window (default: after the newest event)"
    )
    parser.add_argument("--params", type=Path, help="JSON file of training parameters")
    parser.add_argument(
        "--param",
        dest="overrides",
        type=_override,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one training parameter (repeatable), e.g. als_factors=64",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from error
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def configure_train(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument("--out", type=Path, required=True, help="output directory")


def configure_tune(parser: argparse.ArgumentParser) -> None:
    _common(parser)
    parser.add_argument(
        "--trials", type=_positive, default=48, help="model fits the search may make (default 48)"
    )
    parser.add_argument("--out", type=Path, help="write the result (JSON) here")


def _parameters(args: argparse.Namespace) -> Any:
    from recs.training.parameters import TrainingParameters

    values: dict[str, Any] = {}
    if args.params:
        loaded = json.loads(args.params.read_text(encoding="utf-8"))
        values.update(loaded.get("parameters", loaded) if isinstance(loaded, dict) else {})
    values.update(dict(args.overrides))
    return TrainingParameters.model_validate(values)


def _catalog(path: Path | None) -> Any:
    from recs.training.prepare.catalog import Catalog

    if path is None:
        return Catalog.absent()
    with path.open("rb") as lines:
        return Catalog.from_jsonl(lines)


def run_train(args: argparse.Namespace) -> int:
    return _guarded(args, _train)


def run_tune(args: argparse.Namespace) -> int:
    return _guarded(args, _tune)


def _guarded(args: argparse.Namespace, command: Any) -> int:
    """Input problems exit 2 with the reason (as ``recs train`` always has)."""
    from recs.training.errors import TrainingError
    from recs.training.prepare.catalog import CatalogFormatError
    from recs_tools.training.event_files import EventFileError, read_events

    try:
        params = _parameters(args)
        catalog = _catalog(args.catalog)
        events = progress.bar(read_events(args.events), "reading events", unit="events")
        status: int = command(events, args, params, catalog)
        return status
    except ValidationError as error:
        raise CliError(f"invalid parameters:\n{error}", USAGE) from error
    except (EventFileError, CatalogFormatError, TrainingError, OSError, json.JSONDecodeError) as error:
        raise CliError(str(error), USAGE) from error


def _train(events: Any, args: argparse.Namespace, params: Any, catalog: Any) -> int:
    from recs_tools.training.offline import run_offline

    started = time.perf_counter()
    with progress.training(params.als_iterations) as watch:
        result = run_offline(events, args.out, params, catalog=catalog, now=args.now, progress=watch)
    evaluation = result.evaluation
    summary = {
        "modelVersion": result.version,
        "family": evaluation["family"],
        "users": result.users,
        "items": result.items,
        "ndcg": (evaluation["model"] or {}).get("ndcg"),
        "popularityNdcg": (evaluation["popularity"] or {}).get("ndcg"),
        "gate": evaluation["gate"],
        "seconds": round(time.perf_counter() - started, 2),
        "out": str(args.out),
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


def _tune(events: Any, args: argparse.Namespace, params: Any, catalog: Any) -> int:
    from recs_tools.training.offline import load_window
    from recs_tools.training.tune import environment_lines, tune

    interactions, end_ts = load_window(events, params, args.now, catalog)
    trials = progress.counter("search fits", total=args.trials, unit="fit")
    best = float("-inf")

    def on_trial(number: int, record: dict[str, Any]) -> None:
        nonlocal best
        best = max(best, float(record["ndcg"]))
        progress.note(
            f"fit {number:3d} {record['family']:4s} ndcg={record['ndcg']:.4f} {record['parameters']}"
        )
        trials.set_postfix_str(f"best ndcg={best:.4f}")
        trials.update(1)

    try:
        try:
            result = tune(
                interactions,
                catalog.unavailable_mask(interactions.items),
                params,
                end_ts=end_ts,
                trials=args.trials,
                progress=on_trial,
            )
        except ValueError as error:
            raise CliError(str(error), USAGE) from error
    finally:
        trials.close()
    payload = result.as_dict()
    if args.out:
        args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(
        json.dumps({"validationNdcg": result.best_score, "changed": payload["changedFromDefaults"]}) + "\n"
    )
    for line in environment_lines(payload["changedFromDefaults"]):
        sys.stdout.write(line + "\n")
    return 0
