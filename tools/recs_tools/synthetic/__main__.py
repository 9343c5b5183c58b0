"""Write a synthetic shop to files: ``python -m recs_tools.synthetic --preset demo --out DIR``.

Writes ``DIR/events.jsonl`` (the ShopEvent wire format), ``DIR/catalog.jsonl`` (one product per line)
and ``DIR/shop.json`` (configuration, user ids, anonymous ids, opted-out users, anonymous->user links)
and prints a one-line JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_tools.argtypes import aware_datetime, key_value
from recs_tools.synthetic.presets import build_config, preset_names
from recs_tools.synthetic.shop import generate_shop
from recs_tools.synthetic.wire import write_jsonl


def _parse_now(text: str) -> datetime:
    if text == "now":
        # Floored to the hour so that reruns within the hour stay byte-identical.
        return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return aware_datetime(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Process exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m recs_tools.synthetic", description=__doc__)
    parser.add_argument("--preset", choices=preset_names(), default="demo")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--now", type=_parse_now, default=None, help="ISO-8601 with zone, or 'now'")
    parser.add_argument(
        "--set",
        dest="overrides",
        type=key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any ShopConfig field; VALUE is JSON or a plain string",
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)

    overrides: dict[str, Any] = dict(args.overrides)
    if args.seed is not None:
        overrides["seed"] = args.seed
    if args.now is not None:
        overrides["now"] = args.now
    config = build_config(args.preset, **overrides)

    started = time.perf_counter()
    shop = generate_shop(config)
    out: Path = args.out
    n_events = write_jsonl(shop.iter_events(), out / "events.jsonl")
    write_jsonl(shop.catalog(), out / "catalog.jsonl")
    (out / "shop.json").write_text(
        json.dumps(
            {
                "config": config.model_dump(mode="json"),
                "users": shop.users,
                "anonymousIds": shop.anonymous_ids,
                "optedOutUserIds": shop.opted_out_user_ids,
                "anonToUser": shop.anon_to_user,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    summary = {
        "preset": args.preset,
        "events": n_events,
        "products": len(shop.products),
        "users": len(shop.users),
        "anonymousIds": len(shop.anonymous_ids),
        "optedOut": len(shop.opted_out_user_ids),
        "seconds": round(time.perf_counter() - started, 2),
        "out": str(out),
    }
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
