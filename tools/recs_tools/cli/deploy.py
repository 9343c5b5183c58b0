"""``recs smoke`` and ``recs rollback``: delegated to `recs_tools.deploy.smoke` and
`recs_tools.deploy.rollback`.

Each module exposes ``configure(parser)`` and ``run(args) -> int``; they are imported only when
their command runs, so the rest of the CLI works without them.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from types import ModuleType

from recs_tools.cli.errors import MISSING, CliError

DEPLOY_COMMANDS = {
    "smoke": (
        "recs_tools.deploy.smoke",
        "check a deployed stack answers as it should",
        "examples:\n  recs smoke --help",
    ),
    "rollback": (
        "recs_tools.deploy.rollback",
        "point serving back at an earlier model version",
        "examples:\n  recs rollback --help",
    ),
}


def _module(name: str) -> ModuleType:
    module_name = DEPLOY_COMMANDS[name][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            raise CliError(
                f"`recs {name}` is not available in this installation ({module_name} is missing)", MISSING
            ) from error
        raise


def run(name: str, argv: Sequence[str]) -> int:
    """Parse ``argv`` with the module's own options, then run it."""
    module = _module(name)
    _, summary, examples = DEPLOY_COMMANDS[name]
    parser = argparse.ArgumentParser(
        prog=f"recs {name}",
        description=(module.__doc__ or summary).strip().splitlines()[0],
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.configure(parser)
    status: int = module.run(parser.parse_args(list(argv)))
    return status
