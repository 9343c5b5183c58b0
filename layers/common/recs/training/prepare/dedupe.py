"""Which events are the first copy of their eventId, from a 64-bit key per event.

A client retry re-sends an event with the same eventId, later, possibly in another lake object
or another day; Prepare keeps the first copy. An eventId is 128 bits (`event_id_halves`: the UUID
itself, or a blake2b digest of any other id); the builder keeps a 64-bit key of it per event
(8 bytes where the two halves took 16) and `first_copies` finds the repeated keys by sorting
their low halves a slice of the key space at a time, so that its temporaries stay at a few MiB.

The key, ``mix(high ^ mix(low))`` with ``mix`` the splitmix64 finaliser (a bijection of 64-bit
words), is 1:1 in each half when the other is fixed: two ids that share either half never
collide, so ids counting up in one half (``uuid.UUID(int=n)``, the benchmark's) cannot. Two ids
that differ in both collide with probability 2^-64 (the halves of a random UUID or of a digest
are random), so among n distinct ids in one window the chance of any collision is about
n^2 / 2^65 per run: 4e-7 at the benchmark's 4M events, 0.2% at 250M (a prepare function's 10 GB
at 40 bytes per event), 9% at 1.78 billion (the cost model's window at 10M monthly users over
90 days, past one machine). A collision drops one of the two events as a duplicate of the other
(counted in ``duplicatesDropped``): one event in hundreds of millions, not a change any model
would show. Exact 128-bit keys would cost 8 more bytes per event at Prepare's peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_WORD = (1 << 64) - 1
_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
#: Keys whose low halves are sorted at once while finding repeats: 2^19 (2 MiB), or a sixteenth.
_SLICE_KEYS = 1 << 19
_MAX_SLICE_BITS = 4
#: Rows looked up at once while finding where the repeated keys are.
_SLICE_ROWS = 1 << 16
#: The largest table of repeated keys' low bits: 4 MiB.
_MAX_TABLE_BITS = 22


def event_key(high: int, low: int) -> int:
    """The 64-bit dedupe key of an eventId's halves (`event_keys` for one)."""
    return _mix(high ^ _mix(low))


def event_keys(high: npt.NDArray[np.uint64], low: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """`event_key` of every pair of halves at once."""
    return mix64(high ^ mix64(low))


def first_copies(keys: Sequence[npt.NDArray[np.uint64]]) -> npt.NDArray[np.bool_]:
    """True at the first occurrence of each key, over the concatenation of ``keys``."""
    n = sum(part.size for part in keys)
    keep = np.ones(n, dtype=np.bool_)
    prefixes = _repeated_prefixes(keys, n)
    if not prefixes.size:
        return keep
    # Where the keys of those prefixes are (a few: the copies, each one's first copy, and keys
    # that only share the prefix), a slice of rows at a time: a table of the prefixes' low bits
    # picks candidates at numpy speed, and only those are looked up. Then, by the whole key,
    # every occurrence but the first (by position) is dropped.
    table_bits = min(_MAX_TABLE_BITS, max(16, math.ceil(math.log2(prefixes.size * 64))))
    low_bits = np.uint64((1 << table_bits) - 1)
    table = np.zeros(1 << table_bits, dtype=np.bool_)
    table[prefixes & np.uint32(low_bits)] = True
    positions, found = [], []
    offset = 0
    for part in keys:
        for start in range(0, part.size, _SLICE_ROWS):
            rows = part[start : start + _SLICE_ROWS]
            maybe = np.flatnonzero(table[rows & low_bits])
            candidates = rows[maybe]
            prefix = candidates.astype(np.uint32)
            slot = np.minimum(np.searchsorted(prefixes, prefix), prefixes.size - 1)
            hit = prefixes[slot] == prefix
            positions.append(maybe[hit] + (offset + start))
            found.append(candidates[hit])
        offset += part.size
    at_position, found_keys = np.concatenate(positions), np.concatenate(found)
    order = np.argsort(found_keys, kind="stable")  # stable: by position within a key
    ordered = found_keys[order]
    later = np.ones(ordered.size, dtype=np.bool_)
    later[0] = False
    np.equal(ordered[1:], ordered[:-1], out=later[1:])
    keep[at_position[order[later]]] = False
    return keep


def _repeated_prefixes(keys: Sequence[npt.NDArray[np.uint64]], n: int) -> npt.NDArray[np.uint32]:
    """The low 32 bits of every key that occurs more than once, and of a few that do not (two
    keys sharing them), ascending. Each slice of the key space (by the keys' top bits: they are
    mixed, so the slices are even) is gathered and sorted on its own; 32 bits sort faster than
    64 and take half the memory."""
    bits = min(_MAX_SLICE_BITS, max(0, math.ceil(math.log2(max(n, 1) / _SLICE_KEYS))))
    repeated = [np.zeros(0, dtype=np.uint32)]
    for top in range(1 << bits):
        low, high = np.uint64(top << (64 - bits)), (top + 1) << (64 - bits)
        gathered = np.concatenate(
            [np.zeros(0, dtype=np.uint32)] + [_within(part, low, high).astype(np.uint32) for part in keys]
        )
        gathered.sort()
        repeated.append(gathered[1:][gathered[1:] == gathered[:-1]])
    return np.unique(np.concatenate(repeated))


def _within(part: npt.NDArray[np.uint64], low: np.uint64, high: int) -> npt.NDArray[np.uint64]:
    """The keys of ``part`` in ``[low, high)`` (``high`` up to 2^64)."""
    inside = part >= low
    if high < 1 << 64:
        inside &= part < np.uint64(high)
    return part[inside]


def _mix(value: int) -> int:
    value = ((value ^ (value >> 30)) * _MIX[0]) & _WORD
    value = ((value ^ (value >> 27)) * _MIX[1]) & _WORD
    return value ^ (value >> 31)


def mix64(value: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser of every word: a bijection that spreads any bit's change over all 64."""
    value = (value ^ (value >> np.uint64(30))) * np.uint64(_MIX[0])
    value = (value ^ (value >> np.uint64(27))) * np.uint64(_MIX[1])
    return value ^ (value >> np.uint64(31))
