"""The ``recs`` command (console script ``recs = recs_tools.cli:main``).

    recs local | demo | train | tune | report | rules | bench | smoke | rollback   (recs COMMAND --help)

Exit status: 0 done, 1 the operation failed, 2 bad usage or input, 3 something needed is
missing (the message says what to run), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recs_tools.cli import bench, deploy, local, report, rules, training
from recs_tools.cli.errors import CliError

__all__ = ["main"]


@dataclass(frozen=True)
class Command:
    name: str
    summary: str
    examples: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


COMMANDS = (
    Command(
        "local",
        "start the local stack and serve its API",
        local.LOCAL_EXAMPLES,
        local.configure_local,
        local.run_local,
    ),
    Command(
        "demo",
        "the whole product locally: synthetic shop, ingest, training, reports; then serve",
        local.DEMO_EXAMPLES,
        local.configure_demo,
        local.run_demo,
    ),
    Command(
        "train",
        "train on an events file and write the offline outputs",
        training.TRAIN_EXAMPLES,
        training.configure_train,
        training.run_train,
    ),
    Command(
        "tune",
        "pick hyperparameters on a validation split",
        training.TUNE_EXAMPLES,
        training.configure_tune,
        training.run_tune,
    ),
    Command(
        "report",
        "write the model and experiment reports (HTML)",
        report.EXAMPLES,
        report.configure,
        report.run,
    ),
    Command(
        "rules",
        "list, add and remove merchandising rules (pin, boost, bury, block); read their audit",
        rules.EXAMPLES,
        rules.configure,
        rules.run,
    ),
    Command(
        "bench", "run the benchmarks (make bench / bench-quick)", bench.EXAMPLES, bench.configure, bench.run
    ),
)

MAIN_EPILOG = """examples:
  recs demo                                   # everything locally, reports at :3000/reports/
  recs train --events events.jsonl --out out/
  recs report --offline out/ --events events.jsonl
  recs report --stack recs-prod
  recs rules --stack recs-prod list

exit status: 0 done, 1 the operation failed, 2 bad usage or input,
3 something needed is missing (the message says what to run), 130 interrupted."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recs",
        description="Operate the recommender: run it locally, train, tune, report, benchmark, deploy checks.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.summary,
            description=command.summary,
            epilog=command.examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(sub)
        sub.set_defaults(run=command.run)
    for name, (_, summary, _) in deploy.DEPLOY_COMMANDS.items():
        # Parsed by the deploy module itself (see main); listed here for `recs --help`.
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recs`` console script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if arguments and arguments[0] in deploy.DEPLOY_COMMANDS:
            return deploy.run(arguments[0], arguments[1:])
        args = _parser().parse_args(arguments)
        status: int = args.run(args)
        return status
    except CliError as error:
        sys.stderr.write(f"recs: {error}\n")
        return error.status
    except KeyboardInterrupt:
        sys.stderr.write("recs: interrupted\n")
        return 130
