"""Dense numbers for 64-bit id keys, in order of first appearance, at about 14 to 24 bytes per id.

Why not a dict: Prepare numbers every session id of the window, and a real shop has a session
for every few events (the demo shop: one per 6.3). A ``dict[str, int]`` holds each id as a
Python string (about 85 bytes for a 34-character id), an int object and an entry: about 150
bytes per id, or more than 20 bytes per event, most of Prepare's peak once the lake's visitors
are as many as a real shop's (bench/prepare_speed.py). Sessions need no name after Prepare (the
interactions carry only their numbers), so the builder keeps a 64-bit key of each id and this
table, which numbers a whole block of keys with array operations:

* the keys in order of their numbers (8 bytes per id, plus up to half again while it grows),
  in a memory map of their own so that the smaller copy goes back to the system as it grows;
* an open-addressing hash table of numbers only (4 bytes a slot, -1 empty), kept between a
  third and two thirds full: a slot's key is read through its number.

A table of (key, number) slots kept at most half full cost 24 to 48 bytes per id; at the
benchmark's 4M events (632k sessions) this layout holds about 10 MiB where that held 24.

Each probe step is one array operation over the keys still probing; the last few keys of the
longest probes go one at a time (`_FEW`), and a batch of distinct keys (a block's own ids, the
usual call) skips sorting out repeats. `recs.training.prepare.name_numbers.NameNumbers` numbers
the visitors' ids through this table, with their names beside it.

`IdNumbers.number` gives exactly what ``index.setdefault(key, len(index))`` would give each key
in turn. Two ids with the same key share a number: with 64-bit keys of n distinct ids that
happens with probability about n^2 / 2^65 (3e-6 at 10M sessions), and merges two visits into one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from recs.training.prepare.columns import grown_for, mapped_empty
from recs.training.prepare.dedupe import mix64

#: The smallest table: 2^12 slots (16 KiB).
_MIN_BITS = 12
_EMPTY = np.int32(-1)
#: The table doubles once keys would fill more than this share of its slots. Linear probing's
#: expected probes for a key not held are (1 + 1 / (1 - load)^2) / 2: 5 at 2/3 (2.5 at 1/2);
#: each probe step is one array operation over the keys still probing, few after the first.
_MAX_LOAD = (2, 3)
#: Keys still probing when the rest of their probes go one key at a time: the longest probes run
#: to dozens of steps, and a step of array operations costs what a few scalar probes do.
_FEW = 64


class IdNumbers:
    """Numbers 64-bit keys 0, 1, 2, ... in the order they first appear."""

    def __init__(self, max_load: tuple[int, int] = _MAX_LOAD) -> None:
        self._max_load = max_load
        self._slots = _empty_slots(1 << _MIN_BITS)
        self._keys: npt.NDArray[np.uint64] = mapped_empty(1 << _MIN_BITS, np.uint64)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        """Slots in the table (at least one and a half times the keys held)."""
        return int(self._slots.size)

    def first_slots(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        """The slot each key's probe starts at in the table as it is now."""
        return self._slot_of(keys)

    def number(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
        """The number of each key (repeats allowed), new keys numbered on in the order given."""
        if not keys.size:
            return np.zeros(0, dtype=np.int32)
        ascending = np.sort(keys)
        if not bool((ascending[1:] == ascending[:-1]).any()):
            # Distinct keys (a block's own ids, the usual call): already in order of appearance.
            return self._number_distinct(keys)
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        by_appearance = np.argsort(first, kind="stable")
        numbers = np.empty(distinct.size, dtype=np.int32)
        numbers[by_appearance] = self._number_distinct(distinct[by_appearance])
        return numbers[np.asarray(inverse).reshape(-1)]

    def _number_distinct(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
        """`number` of distinct keys."""
        numbers = self._find(keys)
        new = numbers < 0
        if new.any():
            added_keys = keys[new]
            added = np.arange(self._count, self._count + added_keys.size, dtype=np.int32)
            numbers[new] = added
            self._hold(added_keys)
            if not self._grow_for(self._count):
                self._insert(added_keys, added)
        return numbers

    def _slot_of(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        return (mix64(keys) & np.uint64(self._slots.size - 1)).astype(np.intp)

    def _find(self, keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.int32]:
        """Each (distinct) key's number, -1 where it has none: each key probes slot after slot
        until it meets itself or an empty slot, all keys a step at a time."""
        found = np.full(keys.size, _EMPTY, dtype=np.int32)
        pending = np.arange(keys.size)
        slot = self._slot_of(keys)
        mask = self._slots.size - 1
        while pending.size > _FEW:
            numbers = self._slots[slot]
            taken = numbers >= 0
            # An empty slot's -1 reads the last key held or spare (never out of bounds); ``taken``
            # discards it: cheaper than selecting the taken slots first.
            hit = taken & (self._keys[numbers] == keys[pending])
            found[pending[hit]] = numbers[hit]
            going_on = taken & ~hit
            pending, slot = pending[going_on], (slot[going_on] + 1) & mask
        # The last few keys of the longest probes, one at a time.
        slots, held = self._slots, self._keys
        for i, at in zip(pending.tolist(), slot.tolist(), strict=True):
            key = keys[i]
            while (number := slots[at]) >= 0:
                if held[number] == key:
                    found[i] = number
                    break
                at = (at + 1) & mask
        return found

    def _insert(self, keys: npt.NDArray[np.uint64], numbers: npt.NDArray[np.int32]) -> None:
        """Places keys the table does not hold, each in the first empty slot of its probe, all
        keys a step at a time. Keys meeting at one empty slot in the same step all write their
        number there and read it back: the one whose number stayed has the slot (which one does
        not matter, only that one does), the others probe on. A scatter and a gather where
        sorting the claims (`np.unique`) took most of the time at two thirds full."""
        pending = np.arange(keys.size)
        slot = self._slot_of(keys)
        mask = self._slots.size - 1
        while pending.size > _FEW:
            claiming = self._slots[slot] < 0
            self._slots[slot[claiming]] = numbers[pending[claiming]]
            going_on = self._slots[slot] != numbers[pending]
            # A key that lost a claim goes on to the slot's successor, as the slot is taken now.
            pending, slot = pending[going_on], (slot[going_on] + 1) & mask
        slots = self._slots
        for i, at in zip(pending.tolist(), slot.tolist(), strict=True):
            while slots[at] >= 0:
                at = (at + 1) & mask
            slots[at] = numbers[i]

    def _hold(self, keys: npt.NDArray[np.uint64]) -> None:
        """Appends new keys (numbered on from the count) to the keys in order of number."""
        count = self._count + keys.size
        self._keys = grown_for(self._keys, self._count, count)
        self._keys[self._count : count] = keys
        self._count = count

    def _grow_for(self, count: int) -> bool:
        """Doubles the table until ``count`` keys fill at most ``max_load`` of it, rehashing every
        key held (read from the keys in order of number); False if it was large enough."""
        size = self._slots.size
        most, of = self._max_load
        while count * of > size * most:
            size *= 2
        if size == self._slots.size:
            return False
        self._slots = _empty_slots(size)
        self._insert(self._keys[:count], np.arange(count, dtype=np.int32))
        return True


def _empty_slots(size: int) -> npt.NDArray[np.int32]:
    """A table of empty slots in a memory map of its own: the table outlives most of what Prepare
    allocates, and doubles; from malloc's heap, each smaller table it left behind was a hole
    that Prepare's short-lived buffers only partly reused, resident all along."""
    slots = mapped_empty(size, np.int32)
    slots.fill(_EMPTY)
    return slots


def text_keys(texts: list[str]) -> npt.NDArray[np.uint64]:
    """A 64-bit key of each text: Python's own string hash (SipHash, computed once per string
    object and cached on it). It differs between processes (``PYTHONHASHSEED``), which does not
    change any number `IdNumbers` gives: those follow the order of first appearance, not the
    keys' values (only a collision, above, depends on them)."""
    return np.fromiter(map(hash, texts), dtype=np.int64, count=len(texts)).view(np.uint64)
