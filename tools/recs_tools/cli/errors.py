"""Exit statuses of the ``recs`` command, and the error that carries one with advice."""

from __future__ import annotations

OK = 0
#: The command ran and what it did failed (a training run, a smoke test, a report's reads).
FAILED = 1
#: The command line or an input file is wrong (argparse also exits 2).
USAGE = 2
#: Something the command needs is not installed or not there yet (redis-server, a trained model).
MISSING = 3


class CliError(Exception):
    """A failure the user can fix: the message says how; ``status`` is the exit status."""

    def __init__(self, message: str, status: int = USAGE) -> None:
        super().__init__(message)
        self.status = status
