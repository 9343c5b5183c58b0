"""Progress bars on stderr (tqdm), shown only on a terminal so logs and pipes stay clean."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

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
    """A bar over named steps (the `recs.reports.generate.Track` the report writers take)."""
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


class _Silent:
    def update(self, _n: int = 1) -> None:
        return None

    def set_postfix_str(self, _text: str) -> None:
        return None

    def close(self) -> None:
        return None
