"""The builder's per-event columns: append-only, in segments whose memory goes back to the system
the moment a segment is released.

Why segments in memory maps of their own: `InteractionBuilder.build` turns each per-event column
into its output a segment at a time, releasing every segment once copied, so the input and its
output never both exist whole. That only lowers the peak if a released segment's pages really
leave the process; an array grown by ``realloc`` or allocated by ``malloc`` need not (once a
large block has been freed, glibc serves allocations below 32 MiB from its heap, which it
rarely trims). An anonymous map is taken a page at a time as it is written and unmapped when the
last view of it goes, whatever malloc's heap looks like.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import Any, overload

import numpy as np
import numpy.typing as npt

#: Rows of a column's first segments: a few MiB per column at most, so releasing as it goes keeps
#: the overlap of input and output small, and each segment is a few hundred pages.
SEGMENT_ROWS = 1 << 18
#: Later segments hold a 64th of the column so far (when that is more): the overlap stays under
#: 2%, and a column of billions of rows stays in hundreds of maps (Linux allows 65,530 a process).
_GROWTH_SHIFT = 6


def mapped_empty(rows: int, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """An uninitialised array in an anonymous memory map of its own (see the module's docstring)."""
    kind = np.dtype(dtype)
    pages = mmap.mmap(-1, max(rows * kind.itemsize, 1), flags=mmap.MAP_PRIVATE)
    return np.frombuffer(pages, dtype=kind, count=rows)


def grown_for(array: npt.NDArray[Any], used: int, needed: int) -> npt.NDArray[Any]:
    """``array`` if it has ``needed`` rows, else a mapped copy of its first ``used`` rows with room
    for ``needed`` and at least half again (so that appending one at a time costs amortised
    constant time, and the smaller copy goes back to the system as the larger one takes over)."""
    if needed <= array.size:
        return array
    grown = mapped_empty(max(needed, array.size + array.size // 2), array.dtype)
    used = min(used, array.size)
    grown[:used] = array[:used]
    return grown


class Column:
    """An append-only column of one dtype, held in segments of `SEGMENT_ROWS` rows or more."""

    def __init__(self, dtype: npt.DTypeLike, segment_rows: int = SEGMENT_ROWS) -> None:
        self.dtype = np.dtype(dtype)
        self.segment_rows = segment_rows
        self._full: list[npt.NDArray[Any]] = []
        self._tail: npt.NDArray[Any] | None = None
        self._tail_rows = 0
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def extend(self, values: npt.NDArray[Any]) -> None:
        done = 0
        while done < values.size:
            if self._tail is None:
                rows = max(self.segment_rows, self._rows >> _GROWTH_SHIFT)
                self._tail, self._tail_rows = mapped_empty(rows, self.dtype), 0
            take = min(values.size - done, self._tail.size - self._tail_rows)
            self._tail[self._tail_rows : self._tail_rows + take] = values[done : done + take]
            self._tail_rows += take
            self._rows += take
            done += take
            if self._tail_rows == self._tail.size:
                self._full.append(self._tail)
                self._tail = None
                self._tail_rows = 0

    def segments(self) -> list[npt.NDArray[Any]]:
        """Writable views of the segments, in order."""
        tail = [] if self._tail is None or not self._tail_rows else [self._tail[: self._tail_rows]]
        return [*self._full, *tail]

    def take_segments(self) -> Iterator[npt.NDArray[Any]]:
        """The segments in order, the column left empty: each is released as soon as the caller lets
        go of it (keep no other reference to them)."""
        pending = self.segments()
        self._full, self._tail, self._tail_rows, self._rows = [], None, 0, 0
        pending.reverse()
        while pending:
            yield pending.pop()


class SmallNumbers:
    """An append-only column of numbers from 0 up (the builder's item numbers), held in 2 bytes
    each while every number so far is below 65,536 (a shop of fewer products: most shops), and
    in 4 from the first batch that holds a larger one. `segments` and `take_segments` give the
    values as held: uint16 segments, then int32 ones; either indexes an array alike."""

    _NARROW = np.dtype(np.uint16)
    _WIDE = np.dtype(np.int32)

    def __init__(self, segment_rows: int = SEGMENT_ROWS) -> None:
        self.segment_rows = segment_rows
        # At most two runs: the narrow one, then the wide one.
        self._runs: list[Column] = []
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def extend(self, values: npt.NDArray[Any]) -> None:
        """Append numbers (each at least 0)."""
        if not values.size:
            return
        wide = bool(self._runs) and self._runs[-1].dtype == self._WIDE
        if not wide and int(values.max()) > np.iinfo(self._NARROW).max:
            wide = True
        dtype = self._WIDE if wide else self._NARROW
        if not self._runs or self._runs[-1].dtype != dtype:
            self._runs.append(Column(dtype, self.segment_rows))
        self._runs[-1].extend(values)
        self._rows += values.size

    def segments(self) -> list[npt.NDArray[Any]]:
        return [segment for run in self._runs for segment in run.segments()]

    def take_segments(self) -> Iterator[npt.NDArray[Any]]:
        """`segments`, the column left empty: each is released as soon as the caller lets go of it."""
        runs, self._runs, self._rows = self._runs, [], 0
        runs.reverse()
        while runs:
            yield from runs.pop().take_segments()


class Times:
    """Event times (epoch seconds) as an append-only column of float64 values, held in 4 bytes
    each where that is exact: whole milliseconds (what a tracker's ``toISOString`` and the
    ingest's records carry), as int32 offsets from a base of their segment's, 24.8 days either
    side of it. A batch that is not exact in milliseconds, or that spans more than 49 days, is
    held as float64. A batch too far from the current segment's base starts a new segment.

    The values read back are the very floats appended: ``ms / 1e3`` of whole milliseconds is the
    float nearest the time, which is what a timestamp's parse gives; each batch is checked before
    it is kept in 4 bytes. `segments` and `take_segments` decode `DECODE_ROWS` at a time."""

    _RANGE = (1 << 31) - 1

    def __init__(self, segment_rows: int = SEGMENT_ROWS) -> None:
        self.segment_rows = segment_rows
        # Runs of one encoding, in order: (base in ms, or None for float64 seconds; the values).
        self._runs: list[tuple[int | None, Column]] = []
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def extend(self, seconds: npt.NDArray[np.float64]) -> None:
        """Append times in epoch seconds."""
        if not seconds.size:
            return
        millis = _whole_millis(seconds)
        if millis is None or not self._extend_millis(millis):
            self._append(None, seconds)

    def extend_micros(self, micros: npt.NDArray[np.int64]) -> None:
        """The same as `extend` of ``micros / 1e6``, from whole microseconds (the columnar
        reader's): no float to integer conversion on the way, the slow one."""
        if not micros.size:
            return
        millis = micros // 1000
        if not (np.array_equal(millis * 1000, micros) and self._extend_millis(millis)):
            self._append(None, micros / 1e6)

    def _extend_millis(self, millis: npt.NDArray[np.int64]) -> bool:
        """Append whole milliseconds in 4 bytes each; False (nothing appended) when the batch spans
        more than 4 bytes hold."""
        low, high = int(millis.min()), int(millis.max())
        if high - low > 2 * self._RANGE:
            return False
        base = self._runs[-1][0] if self._runs else None
        if base is None or low - base < -self._RANGE or high - base > self._RANGE:
            base = (low + high) // 2
        self._append(base, millis - base)
        return True

    def _append(self, base: int | None, values: npt.NDArray[Any]) -> None:
        """Values of one encoding, after the run of that encoding or in a new one. A run left
        behind keeps its last segment's untouched pages, which cost nothing."""
        if not self._runs or self._runs[-1][0] != base:
            self._runs.append((base, Column(np.float64 if base is None else np.int32, self.segment_rows)))
        self._runs[-1][1].extend(values)
        self._rows += values.size

    def segments(self) -> Iterator[npt.NDArray[np.float64]]:
        """The values in order, in pieces of at most `DECODE_ROWS` (each decoded as it is reached,
        so the float64 copies never add more than a piece's)."""
        for base, run in self._runs:
            for values in run.segments():
                yield from _decoded(base, values)

    def take_segments(self) -> Iterator[npt.NDArray[np.float64]]:
        """`segments`, the column left empty: each segment's memory goes once it is decoded."""
        runs, self._runs, self._rows = self._runs, [], 0
        runs.reverse()
        while runs:
            base, run = runs.pop()
            for values in run.take_segments():
                yield from _decoded(base, values)
                del values

    def held_bytes(self) -> int:
        """Bytes the values take (4 or 8 each)."""
        return sum(values.nbytes for _, run in self._runs for values in run.segments())

    def latest(self) -> float | None:
        """The largest value, or None when empty."""
        latest = [float(segment.max()) for segment in self.segments()]
        return max(latest) if latest else None


def _whole_millis(seconds: npt.NDArray[np.float64]) -> npt.NDArray[np.int64] | None:
    """The times in whole milliseconds where each is exactly ``ms / 1e3``, else None."""
    scaled = seconds * 1e3
    if not np.all(np.abs(scaled) < 2.0**53):  # also False for NaN and infinities
        return None
    millis = np.rint(scaled).astype(np.int64)
    return millis if bool(np.all(millis / 1e3 == seconds)) else None


#: Rows of a `Times` segment decoded at once: 512 KiB of float64.
DECODE_ROWS = 1 << 16


def _decoded(base: int | None, values: npt.NDArray[Any]) -> Iterator[npt.NDArray[np.float64]]:
    """A segment's values as seconds, a piece at a time. Offset plus base is a whole number of
    milliseconds below 2^53, so it is exact as a float, and ``/ 1e3`` rounds it as a parse does."""
    if base is None:
        yield values
        return
    for start in range(0, values.size, DECODE_ROWS):
        seconds = values[start : start + DECODE_ROWS].astype(np.float64)
        seconds += base
        seconds /= 1e3
        yield seconds


class MostlyOnes:
    """A float32 column that is 1 for nearly every event (quantities, sample rates): held as the
    positions and values of the others, and densely only once they are a third of the events
    (where 12 bytes per exception would pass 4 per event)."""

    def __init__(self, segment_rows: int = SEGMENT_ROWS) -> None:
        self._segment_rows = segment_rows
        self._positions = Column(np.int64, segment_rows)
        self._values = Column(np.float32, segment_rows)
        self._dense: Column | None = None
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def extend(self, values: npt.NDArray[np.float32]) -> None:
        if self._dense is not None:
            self._dense.extend(values)
        else:
            at = np.flatnonzero(values != 1.0)
            self._positions.extend(at + self._rows)
            self._values.extend(values[at])
        self._rows += values.size
        if self._dense is None:
            self._densify_if_smaller()

    @overload
    def take_kept(self, keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]: ...

    @overload
    def take_kept(
        self, keep: npt.NDArray[np.bool_], *, ones_as_none: bool
    ) -> npt.NDArray[np.float32] | None: ...

    def take_kept(
        self, keep: npt.NDArray[np.bool_], *, ones_as_none: bool = False
    ) -> npt.NDArray[np.float32] | None:
        """The values where ``keep`` (one entry per row) is True, as one array (None instead of
        all ones when ``ones_as_none``); the column is left empty."""
        if self._dense is not None:
            dense, self._dense = self._dense, None
            kept = np.empty(int(np.count_nonzero(keep)), dtype=np.float32)
            start = done = 0
            for segment in dense.take_segments():
                values = segment[keep[start : start + segment.size]]
                start += segment.size
                kept[done : done + values.size] = values
                done += values.size
            return None if ones_as_none and bool(np.all(kept == 1.0)) else kept
        positions = np.concatenate([np.zeros(0, np.int64), *self._positions.take_segments()])
        values = np.concatenate([np.zeros(0, np.float32), *self._values.take_segments()])
        chosen = keep[positions]
        if ones_as_none and not chosen.any():
            return None
        positions, values = positions[chosen], values[chosen]
        kept = np.ones(int(np.count_nonzero(keep)), dtype=np.float32)
        kept[_ranks(keep, positions, self._segment_rows)] = values
        return kept

    def _densify_if_smaller(self) -> None:
        if 3 * len(self._positions) <= self._rows:
            return
        dense = Column(np.float32, self._segment_rows)
        positions = np.concatenate([np.zeros(0, np.int64), *self._positions.take_segments()])
        values = np.concatenate([np.zeros(0, np.float32), *self._values.take_segments()])
        bounds = np.searchsorted(positions, np.arange(0, self._rows + self._segment_rows, self._segment_rows))
        for index, start in enumerate(range(0, self._rows, self._segment_rows)):
            segment = np.ones(min(self._segment_rows, self._rows - start), dtype=np.float32)
            inside = slice(bounds[index], bounds[index + 1])
            segment[positions[inside] - start] = values[inside]
            dense.extend(segment)
        self._dense = dense


def _ranks(keep: npt.NDArray[np.bool_], positions: npt.NDArray[np.int64], step: int) -> npt.NDArray[np.int64]:
    """For each of the (ascending, kept) ``positions``, how many kept rows precede it: a running
    count a slice of ``step`` rows at a time rather than one integer per row."""
    ranks = np.empty(positions.size, dtype=np.int64)
    if not positions.size:
        return ranks
    bounds = np.searchsorted(positions, np.arange(0, keep.size + step, step))
    before = 0
    # One buffer for every slice's running count (4 bytes a row: a slice's count fits), written
    # in place: a fresh int64 array per slice held three slices' worth at once.
    running = np.empty(min(step, keep.size), dtype=np.int32)
    for index, start in enumerate(range(0, keep.size, step)):
        inside = slice(bounds[index], bounds[index + 1])
        if inside.start == inside.stop:
            before += int(np.count_nonzero(keep[start : start + step]))
            continue
        rows = keep[start : start + step]
        counts = np.cumsum(rows, dtype=np.int32, out=running[: rows.size])
        ranks[inside] = before + counts[positions[inside] - start] - 1
        before += int(counts[-1])
    return ranks
