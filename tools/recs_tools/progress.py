"""Progress bars on stderr (tqdm), shown only on a terminal so logs and pipes stay clean."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from recs.training.progress import TrainingProgress

T = TypeVar("T")


def bar(
    iterable: Iterable[T], description: str, *, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    """``iterable`` with a progress bar; unchanged when tqdm is not installed or stderr is no terminal."""
    try:
        from tqdm import tqdm
    except ImportError:
        yield from iterable
        return
    yield from tqdm(
        iterable, desc=description, total=total, unit=unit, file=sys.stderr, disable=None, leave=False
    )


def steps(items: Sequence[str], description: str) -> Iterable[str]:
    """A bar over named steps (the `recs_tools.reports.generate.Track` the report writers take)."""
    return bar(items, description, total=len(items), unit="page")


def counter(description: str, total: int, unit: str = "it") -> Any:
    """A bar advanced by hand (``.update(n)``, ``.set_postfix_str``, ``.close()``), or a stand-in."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _Silent()
    return tqdm(desc=description, total=total, unit=unit, file=sys.stderr, disable=None, leave=False)


def note(line: str) -> None:
    """A line on stderr that does not break a bar being drawn."""
    try:
        from tqdm import tqdm
    except ImportError:
        sys.stderr.write(line + "\n")
        return
    tqdm.write(line, file=sys.stderr)


@contextmanager
def training(sweeps: int) -> Iterator[TrainingProgress]:
    """Hooks for a training run: a line per stage, a bar over the final fit's ALS sweeps and one
    over the users whose lists are written; all on stderr and only on a terminal."""
    if not sys.stderr.isatty():
        yield TrainingProgress()
        return
    bars: list[Any] = []

    def stage(description: str) -> None:
        while bars:
            bars.pop().close()
        note(f"recs: {description}")

    def sweep(iteration: int, seconds: float) -> None:
        if not bars:
            bars.append(counter("ALS sweeps", total=sweeps, unit="sweep"))
        bars[0].update(1)
        bars[0].set_postfix_str(f"sweep {iteration + 1} at {seconds:.1f} s")

    def users_written(count: int) -> None:
        if not bars:
            bars.append(counter("users written", total=0, unit="user"))
        bars[0].update(count)

    try:
        yield TrainingProgress(stage=stage, sweep=sweep, users_written=users_written)
    finally:
        while bars:
            bars.pop().close()


class _Silent:
    def update(self, _n: int = 1) -> None:
        return None

    def set_postfix_str(self, _text: str) -> None:
        return None

    def close(self) -> None:
        return None
