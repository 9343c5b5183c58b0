"""``python -m recs_tools.local.invoke FUNCTION EVENT``: one function, one event, no Docker.

What ``sam local invoke FUNCTION --event EVENT`` does, through the local stack instead of a
container: the template's resources provisioned in moto, the function's handler loaded from its
``CodeUri`` with its own environment (its cold start), the event (one of ``events/*.json`` or
your own) handed to it, and its result printed as JSON. ``make invoke`` runs ``sam local
invoke`` where Docker answers and this module where it does not.

An empty stack has no model, so the recommend function answers 503 until a run publishes one:
``--events FILE`` posts your own events (JSON lines, as ``POST /api/events`` takes them) and
``--preset NAME`` a synthetic shop's, then one training run goes through the real workflow
before the invocation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Short names accepted for the template's functions (``recommend`` -> ``RecommendFunction``).
SUFFIX = "Function"


class UsageError(Exception):
    """Bad arguments: reported as a usage error (exit 2), never a traceback."""


def resolve_function(name: str, known: Sequence[str]) -> str:
    """The template's logical id for ``name`` (``RecommendFunction`` or ``recommend``)."""
    by_short = {logical.removesuffix(SUFFIX).lower(): logical for logical in known}
    found = name if name in known else by_short.get(name.lower().removesuffix(SUFFIX.lower()))
    if found is None:
        raise UsageError(f"unknown function {name!r}; choose one of {', '.join(sorted(known))}")
    return found


def read_event(path: Path) -> Any:
    """The event file's JSON, or a usage error naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise UsageError(f"event file {path} does not exist") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"event file {path} is not JSON: {error}") from error


def read_event_lines(path: Path) -> list[dict[str, Any]]:
    """Shop events, one JSON object per line (blank lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as error:
        raise UsageError(f"--events file {path} does not exist") from error
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError as error:
            raise UsageError(f"--events file {path}, line {number}: not JSON ({error.msg})") from error
        if not isinstance(event, dict):
            raise UsageError(f"--events file {path}, line {number}: not a JSON object")
        events.append(event)
    return events


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.local.invoke", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("function", help="logical id (RecommendFunction) or short name (recommend)")
    parser.add_argument("event", type=Path, help="the event file, e.g. events/recommend_homepage.json")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--events", type=Path, help="post these shop events (JSON lines) and train first")
    seed.add_argument("--preset", help="post a synthetic shop's events (e.g. test, demo) and train first")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        event = read_event(args.event)
        shop_events = read_event_lines(args.events) if args.events else None
        if args.preset:
            from recs_tools.synthetic import preset_names

            if args.preset not in preset_names():
                raise UsageError(f"unknown preset {args.preset!r}; choose one of {', '.join(preset_names())}")
    except UsageError as error:
        parser.error(str(error))  # exits 2

    from recs_tools.local.stack import LocalStack

    with LocalStack() as stack:
        try:
            function = resolve_function(args.function, sorted(stack.functions))
        except UsageError as error:
            parser.error(str(error))
        if shop_events is not None or args.preset:
            _seed(stack, shop_events, args.preset)
        result = stack.invoke(function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _seed(stack: Any, shop_events: list[dict[str, Any]] | None, preset: str | None) -> None:
    """Post the events (and, for a preset, its catalog), then run the training workflow once."""
    from recs.store_layout import CATALOG_OBJECT_KEY
    from recs_tools.synthetic import build_config, generate_shop, iter_batches

    if preset:
        # Ingest keeps events inside the retention window relative to today: the shop ends now.
        now = datetime.now(UTC).replace(microsecond=0)
        shop = generate_shop(build_config(preset, seed=42, now=now))
        shop_events = [dict(event) for event in shop.events]
        catalog = "\n".join(json.dumps(product) for product in shop.catalog()).encode()
        stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, catalog)
    accepted = 0
    for batch in iter_batches(shop_events or []):
        response = stack.post_events({"events": batch})
        accepted += int(json.loads(response["body"]).get("accepted", 0))
    execution = stack.run_training()
    print(
        f"posted {len(shop_events or [])} events ({accepted} accepted); training run {execution['status']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(main())
