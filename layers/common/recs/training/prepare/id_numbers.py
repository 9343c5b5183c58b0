"""Dense numbers for 64-bit id keys, in order of first appearance, at about 24 to 48 bytes per id.

Why not a dict: Prepare numbers every session id of the window, and a real shop has a session
for every few events (the demo shop: one per 6.3). A ``dict[str, int]`` holds each id as a
Python string (about 85 bytes for a 34-character id), an int object and an entry: about 150
bytes per id, or more than 20 bytes per event, most of Prepare's peak once the lake's visitors
are as many as a real shop's (bench/prepare_speed.py). Sessions need no name after Prepare (the
interactions carry only their numbers), so the builder keeps a 64-bit key of each id and this
table: an open-addressing hash table in two numpy arrays (key, number), kept at most half full,
that numbers a whole block of keys with array operations.

`IdNumbers.number` gives exactly what ``index.setdefault(key, len(index))`` would give each key
in turn. Two ids with the same key share a number: with 64-bit keys of n distinct ids that
happens with probability about n^2 / 2^65 (3e-6 at 10M sessions), and merges two visits into one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recs.training.prepare.dedupe import mix64

#: The smallest table: 2^12 slots (48 KiB).
_MIN_BITS = 12
_EMPTY = np.int32(-1)


class IdNumbers:
    """Numbers 64-bit keys 0, 1, 2, ... in the order they first appear."""

    def __init__(self) -> None:
        self._keys = np.zeros(1 << _MIN_BITS, dtype=np.uint64)
        self._numbers = np.full(1 << _MIN_BITS, _EMPTY, dtype=np.int32)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        """Slots in the table (at least twice the keys held)."""
        return int(self._keys.size)

    def first_slots(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        """The slot each key's probe starts at in the table as it is now."""
        return self._slots(keys)

    def number(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
        """The number of each key (repeats allowed), new keys numbered on in the order given."""
        if not keys.size:
            return np.zeros(0, dtype=np.int32)
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        by_appearance = np.argsort(first, kind="stable")
        ordered = distinct[by_appearance]
        numbers_ordered = self._find(ordered)
        new = numbers_ordered < 0
        if new.any():
            added = int(np.count_nonzero(new))
            numbers_ordered[new] = np.arange(self._count, self._count + added, dtype=np.int32)
            self._count += added
            self._grow_for(self._count)
            self._insert(ordered[new], numbers_ordered[new])
        numbers = np.empty(distinct.size, dtype=np.int32)
        numbers[by_appearance] = numbers_ordered
        return numbers[np.asarray(inverse).reshape(-1)]

    def _slots(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        return (mix64(keys) & np.uint64(self._keys.size - 1)).astype(np.intp)

    def _find(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
        """Each (distinct) key's number, -1 where it has none: each key probes slot after slot
        until it meets itself or an empty slot, all keys a step at a time."""
        found = np.full(keys.size, _EMPTY, dtype=np.int32)
        pending = np.arange(keys.size)
        slot = self._slots(keys)
        mask = self._keys.size - 1
        while pending.size:
            numbers = self._numbers[slot]
            hit = (numbers >= 0) & (self._keys[slot] == keys[pending])
            found[pending[hit]] = numbers[hit]
            going_on = (numbers >= 0) & ~hit
            pending, slot = pending[going_on], (slot[going_on] + 1) & mask
        return found

    def _insert(self, keys: npt.NDArray[np.uint64], numbers: npt.NDArray[np.int32]) -> None:
        """Places keys the table does not hold, each in the first empty slot of its probe; keys
        meeting at one empty slot in the same step: the first takes it, the others probe on."""
        pending = np.arange(keys.size)
        slot = self._slots(keys)
        mask = self._keys.size - 1
        while pending.size:
            empty = self._numbers[slot] < 0
            claiming = np.flatnonzero(empty)
            _, first_claim = np.unique(slot[claiming], return_index=True)
            won = claiming[first_claim]
            self._keys[slot[won]] = keys[pending[won]]
            self._numbers[slot[won]] = numbers[pending[won]]
            going_on = np.ones(pending.size, dtype=np.bool_)
            going_on[won] = False
            # A key that lost a claim goes on to the slot's successor, as the slot is taken now.
            pending, slot = pending[going_on], (slot[going_on] + 1) & mask

    def _grow_for(self, count: int) -> None:
        """Doubles the table (rehashing every key) until ``count`` keys leave it at most half full."""
        size = self._keys.size
        while count * 2 > size:
            size *= 2
        if size == self._keys.size:
            return
        held = self._numbers >= 0
        keys, numbers = self._keys[held], self._numbers[held]
        self._keys = np.zeros(size, dtype=np.uint64)
        self._numbers = np.full(size, _EMPTY, dtype=np.int32)
        self._insert(keys, numbers)


def text_keys(texts: list[str]) -> npt.NDArray[np.uint64]:
    """A 64-bit key of each text: Python's own string hash (SipHash, computed once per string
    object and cached on it). It differs between processes (``PYTHONHASHSEED``), which does not
    change any number `IdNumbers` gives: those follow the order of first appearance, not the
    keys' values (only a collision, above, depends on them)."""
    return np.fromiter(map(hash, texts), dtype=np.int64, count=len(texts)).view(np.uint64)
