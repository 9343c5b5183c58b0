"""python -m recs_tools.local demo|serve: the local stack from the command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recs_tools.local", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole product on the local stack, then keep serving")
    demo.add_argument("--port", type=int, default=3000)
    from recs_tools.synthetic.presets import preset_names

    demo.add_argument("--preset", default="demo", choices=preset_names())
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--exit", action="store_true", help="stop after the demo instead of serving")
    demo.add_argument("--verbose", action="store_true", help="show the functions' logs and metrics")
    args = parser.parse_args(argv)
    if not args.verbose:
        # The functions log JSON lines (as in CloudWatch); the demo keeps its console readable.
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        logging.basicConfig(level=logging.WARNING)
        # Training steps that count nothing (e.g. taking the lease) make Powertools say so.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
    from recs_tools.local.demo import main as demo_main

    return demo_main(
        port=args.port,
        preset=args.preset,
        seed=args.seed,
        serve=not args.exit,
        log_level="INFO" if args.verbose else "WARNING",
    )


if __name__ == "__main__":
    sys.exit(main())
