"""Dense numbers for names (visitor ids) in order of first appearance, the names kept as UTF-8
text in memory maps: about 85 bytes per name where a ``dict[str, int]`` held 164 (probed: 220,000
ids of 34 characters, the resident memory each way took in a fresh process).

Why not a dict: Prepare numbers every visitor of the window. A dict holds each id as a Python
string (88 bytes for a 34-character id), an int and an entry; at the benchmark's 4M events (220k
visitors) the visitor dicts held 23 MiB, and their tables, grown by doubling in malloc's heap
among the lake objects' short-lived buffers, left holes there (bench/prepare_speed.py;
docs/training.md, Prepare). Here a name costs its text, an 8-byte end, its 64-bit key in
`IdNumbers` (8 bytes, and slots of 4 at most half full) and the 4-byte number of its key: every
array in a memory map of its own, grown by half (`recs.training.prepare.columns.grown_for`).

Unlike `IdNumbers` alone, two names never share a number: a name whose key is already held is
compared with the name held under it, byte for byte, and a name whose key another name holds is
numbered through a dict of such names (empty but for 64-bit collisions, about n^2 / 2^65 among n
names). `NameNumbers.number` gives exactly what ``index.setdefault(name, len(index))`` would give
each name in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from recs.training.prepare.columns import grown_for, mapped_empty
from recs.training.prepare.id_numbers import IdNumbers, text_keys

#: Text that is not valid UTF-8 on its own (a lone surrogate a JSON text may carry) is kept as is.
_ERRORS = "surrogatepass"


def _utf8(names: Sequence[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """The names' UTF-8 text end to end, and each one's length in bytes."""
    joined = "".join(names)
    if joined.isascii():  # the usual ids: one encoding, lengths in characters are in bytes
        text = joined.encode("ascii")
        lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
    else:
        encoded = [name.encode("utf-8", _ERRORS) for name in names]
        text = b"".join(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    return np.frombuffer(text, dtype=np.uint8), lengths


class NameNumbers:
    """Numbers names 0, 1, 2, ... in the order they first appear, and gives them back."""

    def __init__(self, key: Callable[[list[str]], npt.NDArray[np.uint64]] = text_keys) -> None:
        self._key = key
        # At most half full: a name's text costs ten times its slot, and shorter probes are faster.
        self._ids = IdNumbers(max_load=(1, 2))
        # The name number of each key number (the same unless keys collided).
        self._name_of_key: npt.NDArray[np.int32] = mapped_empty(1 << 10, np.int32)
        # Name i's text is _text[_ends[i - 1]:_ends[i]] (from 0 for the first).
        self._text: npt.NDArray[np.uint8] = mapped_empty(1 << 16, np.uint8)
        self._ends: npt.NDArray[np.int64] = mapped_empty(1 << 10, np.int64)
        self._count = 0
        self._colliding: dict[str, int] = {}

    def __len__(self) -> int:
        return self._count

    def number(self, names: Sequence[str]) -> npt.NDArray[np.int32]:
        """The number of each of the distinct ``names``, new names numbered on in the order given
        (the caller's lists are distinct already: an `EventBlock`'s ids, a dict's keys)."""
        numbers = np.empty(len(names), dtype=np.int32)
        if not names:
            return numbers
        held_keys = len(self._ids)
        key_numbers = self._ids.number(self._key(list(names)))
        # A key met for the first time in this call names a new name: the first name that has it.
        first_of_key = np.zeros(key_numbers.size, dtype=np.bool_)
        new_keys = np.flatnonzero(key_numbers >= held_keys)
        if new_keys.size:
            _, first = np.unique(key_numbers[new_keys], return_index=True)
            first_of_key[new_keys[first]] = True
        checked = np.flatnonzero(~first_of_key)
        # A name whose key another name of this call brought first: a collision, nothing to check.
        new_key_again = key_numbers[checked] >= held_keys
        known = checked[~new_key_again]
        numbers[known] = self._name_of_key[key_numbers[known]]
        differs = ~self._held_are(numbers[known], [names[i] for i in known.tolist()])
        colliding = np.union1d(known[differs], checked[new_key_again])
        new = np.flatnonzero(first_of_key)
        if not colliding.size:
            numbers[new] = self._append([names[i] for i in new.tolist()], key_numbers[new])
            return numbers
        # Another name holds a key of this call's (a 64-bit collision): one name at a time, in
        # order, so that numbers still follow first appearance.
        for i in sorted([*new.tolist(), *colliding.tolist()]):
            if first_of_key[i]:
                numbers[i] = self._append([names[i]], key_numbers[i : i + 1])[0]
            elif (held := self._colliding.get(names[i])) is not None:
                numbers[i] = held
            else:
                numbers[i] = self._colliding[names[i]] = self._append([names[i]], None)[0]
        return numbers

    def names(self) -> list[str]:
        """Every name, in order of number."""
        raw = self._text[: self._end(self._count)].tobytes()
        ends = self._ends[: self._count].tolist()
        starts = [0, *ends][: len(ends)]
        if raw.isascii():  # ids as a rule: one decoding, and a byte's offset is a character's
            text = raw.decode("ascii")
            return [text[start:end] for start, end in zip(starts, ends, strict=True)]
        return [raw[start:end].decode("utf-8", _ERRORS) for start, end in zip(starts, ends, strict=True)]

    def _held_are(self, numbers: npt.NDArray[np.int32], names: list[str]) -> npt.NDArray[np.bool_]:
        """Whether the name held as ``numbers[i]`` is ``names[i]``, byte for byte."""
        text, lengths = _utf8(names)
        held_ends = self._ends[numbers]
        held_starts = held_ends - self._lengths(numbers)
        same: npt.NDArray[np.bool_] = held_ends - held_starts == lengths
        if not text.size:
            return same
        if lengths.size and bool(same.all()) and bool((lengths == lengths[0]).all()):
            # Ids of one form have one length: the names side by side as rows of a matrix.
            width = int(lengths[0])
            rows = self._text[held_starts[:, np.newaxis] + np.arange(width)]
            whole: npt.NDArray[np.bool_] = (rows == text.reshape(-1, width)).all(axis=1)
            return whole
        # Each given byte against the held byte at the same offset of its name, where the lengths
        # agree; a name differs where any byte does.
        owner = np.repeat(np.arange(lengths.size), lengths)
        offset = np.arange(text.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        where = np.minimum(held_starts[owner] + offset, max(self._end(self._count) - 1, 0))
        differs = (self._text[where] != text) & same[owner]
        same[np.unique(owner[differs])] = False
        return same

    def _lengths(self, numbers: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        starts = np.where(numbers > 0, self._ends[np.maximum(numbers - 1, 0)], 0)
        lengths: npt.NDArray[np.int64] = self._ends[numbers] - starts
        return lengths

    def _append(self, names: list[str], key_numbers: npt.NDArray[np.int32] | None) -> npt.NDArray[np.int32]:
        """Holds new names (their keys' numbers, None for colliding names); their numbers."""
        text, lengths = _utf8(names)
        first, count = self._count, self._count + lengths.size
        start = self._end(first)
        self._text = grown_for(self._text, start, start + text.size)
        self._text[start : start + text.size] = text
        self._ends = grown_for(self._ends, first, count)
        np.cumsum(lengths, out=self._ends[first:count])
        self._ends[first:count] += start
        numbers = np.arange(first, count, dtype=np.int32)
        if key_numbers is not None and key_numbers.size:
            top = int(key_numbers.max()) + 1
            self._name_of_key = grown_for(self._name_of_key, len(self._ids), top)
            self._name_of_key[key_numbers] = numbers
        self._count = count
        return numbers

    def _end(self, count: int) -> int:
        """Where the text of the first ``count`` names ends."""
        return int(self._ends[count - 1]) if count else 0
