"""Handing malloc's free heap back to the system between Prepare's two phases.

Reading the lake allocates and frees each object's buffers (arrow's arrays, the day's Parquet,
numpy's temporaries) through malloc, whose heap keeps freed memory resident for the next
allocation: at the benchmark's 4M events the heap held about 25 MiB free, in holes below memory
still in use, when the reading ended (bench/prepare_speed.py; docs/training.md, Prepare). glibc
only returns a hole's pages when asked (``malloc_trim``). `InteractionBuilder.build` asks once,
before it writes its outputs, as nothing of the reading's buffers is needed after it; the
columns, tables and name stores Prepare keeps are memory maps of their own, untouched by it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        own_symbols = ctypes.CDLL(None)
    except OSError:
        return None
    trim = getattr(own_symbols, "malloc_trim", None)
    if trim is None:  # not glibc (musl, macOS): nothing to ask
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release_free_heap() -> bool:
    """Returns the free pages of malloc's heap to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
