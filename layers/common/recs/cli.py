"""The ``recs`` command (console script): offline training and tuning on local event files.

    recs train --events FILE --out DIR [--catalog FILE] [--now ISO] [--params FILE] [--param K=V ...]
    recs tune  --events FILE [--catalog FILE] [--now ISO] [--trials N] [--out FILE] [--param K=V ...]

``--params FILE`` reads a JSON object of training parameters (what ``recs tune --out`` writes,
or its ``parameters`` member); ``--param K=V`` overrides one (V is JSON or a plain string).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError


def _now(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a zone, e.g. 2026-11-01T00:00:00Z")
    return parsed


def _override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip().lower(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip().lower(), raw


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recs", description="Offline training of the recommender.")
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--events", type=Path, required=True, help="JSONL (.gz) or Parquet events")
    common.add_argument("--catalog", type=Path, help="catalog JSONL: {id, category, available} per line")
    common.add_argument("--now", type=_now, help="end of the window (default: after the newest event)")
    common.add_argument("--params", type=Path, help="JSON file of training parameters")
    common.add_argument(
        "--param", dest="overrides", type=_override, action="append", default=[], metavar="KEY=VALUE"
    )
    train = commands.add_parser("train", parents=[common], help="train and write the offline outputs")
    train.add_argument("--out", type=Path, required=True, help="output directory")
    tune = commands.add_parser("tune", parents=[common], help="pick hyperparameters on validation")
    tune.add_argument("--trials", type=int, default=24, help="random ALS trials (default 24)")
    tune.add_argument("--out", type=Path, help="write the result (JSON) here")
    return parser


def _parameters(args: argparse.Namespace) -> Any:
    from recs.training.parameters import TrainingParameters

    values: dict[str, Any] = {}
    if args.params:
        loaded = json.loads(args.params.read_text(encoding="utf-8"))
        values.update(loaded.get("parameters", loaded) if isinstance(loaded, dict) else {})
    values.update(dict(args.overrides))
    return TrainingParameters.model_validate(values)


def _catalog(path: Path | None) -> Any:
    from recs.training.catalog import Catalog

    if path is None:
        return Catalog.absent()
    with path.open("rb") as lines:
        return Catalog.from_jsonl(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recs`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    from recs.training.catalog import CatalogFormatError
    from recs.training.errors import TrainingError
    from recs.training.event_files import EventFileError, read_events

    try:
        params = _parameters(args)
        catalog = _catalog(args.catalog)
        events = read_events(args.events)
        if args.command == "train":
            return _train(events, args, params, catalog)
        return _tune(events, args, params, catalog)
    except ValidationError as error:
        sys.stderr.write(f"recs: invalid parameters:\n{error}\n")
    except (EventFileError, CatalogFormatError, TrainingError, OSError, json.JSONDecodeError) as error:
        sys.stderr.write(f"recs: {error}\n")
    return 2


def _train(events: Any, args: argparse.Namespace, params: Any, catalog: Any) -> int:
    from recs.training.offline import run_offline

    started = time.perf_counter()
    result = run_offline(events, args.out, params, catalog=catalog, now=args.now)
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
    from recs.training.offline import load_window
    from recs.training.tune import environment_lines, tune

    interactions, end_ts = load_window(events, params, args.now)

    def progress(number: int, record: dict[str, Any]) -> None:
        sys.stderr.write(
            f"trial {number:3d} {record['family']:4s} ndcg={record['ndcg']:.4f} {record['parameters']}\n"
        )

    result = tune(
        interactions,
        catalog.unavailable_mask(interactions.items),
        params,
        end_ts=end_ts,
        trials=args.trials,
        progress=progress,
    )
    payload = result.as_dict()
    if args.out:
        args.out.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(
        json.dumps({"validationNdcg": result.best_score, "changed": payload["changedFromDefaults"]}) + "\n"
    )
    for line in environment_lines(payload["changedFromDefaults"]):
        sys.stdout.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
