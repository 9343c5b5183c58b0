"""Which texts of a column have the forms the columnar reader relies on: canonical UUIDs (eventIds
decoded from their hex digits) and ISO-8601 timestamps both readers parse alike.

Each form is defined by its regular expression (`UUID`, `TIMESTAMP`). When every text of a column
has the same length, as a lake's eventIds do (the SDKs' UUIDs), the column's bytes are a matrix:
the UUID form is then checked and decoded with whole-matrix byte arithmetic, about five times
faster than the expression and the gather it replaced (together a fifth of the columnar path's
CPU at 1M events); any other column goes by the expression. Timestamps are checked the same way
a run of equal-length texts at a time (`all_timestamps`). Both give the same answer
(tests/unit/training/test_text_forms.py).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:[0-5]\d(\.\d{3}|\.\d{6})?(Z|[+-]\d{2}:\d{2})$"

#: Where a canonical UUID's 32 hex digits sit among its 36 characters, and its dashes.
HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)], dtype=np.int64)
_DASH_POSITIONS = np.array([8, 13, 18, 23], dtype=np.int64)


def fixed_width(values: pa.Array) -> npt.NDArray[np.uint8] | None:
    """The texts' bytes as an (n, width) matrix when none is null and all have the same length
    (a view, no copy); else None."""
    n = len(values)
    if not n or values.null_count:
        return None
    offsets = _offsets(values)
    width = int(offsets[1] - offsets[0])
    if not width or int(offsets[-1] - offsets[0]) != width * n or np.any(np.diff(offsets) != width):
        return None
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(n, width)


def _offsets(values: pa.Array) -> npt.NDArray[np.int32]:
    """Where each text starts in the data buffer, and after it where the last one ends."""
    return np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset : values.offset + len(values) + 1]


def canonical_uuids(values: pa.Array) -> npt.NDArray[np.bool_]:
    """True where the text is a canonical UUID (`UUID`)."""
    text = fixed_width(values)
    if text is None:
        matched = pc.fill_null(pc.match_substring_regex(values, UUID), False)
        return np.asarray(matched.to_numpy(zero_copy_only=False), dtype=np.bool_)
    if text.shape[1] != 36:
        return np.zeros(len(values), dtype=np.bool_)
    # Whole-matrix byte arithmetic (a column at a time is several times slower): a digit, or a
    # letter a-f in either case (setting 0x20 lowers only A-F into a-f), and dashes where due.
    ok = ((text - np.uint8(ord("0"))) <= 9) | (((text | np.uint8(0x20)) - np.uint8(ord("a"))) <= 5)
    ok[:, _DASH_POSITIONS] = text[:, _DASH_POSITIONS] == ord("-")
    if ok.all():
        return np.ones(len(values), dtype=np.bool_)
    return np.asarray(ok.all(axis=1), dtype=np.bool_)


def uuid_halves(values: pa.Array, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.uint64]:
    """The two 64-bit halves (an (n, 2) array) of the canonical UUIDs at ``rows``."""
    text = fixed_width(values)
    if text is not None:
        digits = text[rows][:, HEX_POSITIONS]
    else:
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset :]
        data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
        digits = data[offsets[rows, None] + HEX_POSITIONS]
    # A hex digit's value: its low four bits, plus 9 for a letter (0x40 set: A-F, a-f).
    nibbles = (digits & np.uint8(0x0F)) + np.uint8(9) * (digits >> np.uint8(6))
    octets = np.ascontiguousarray((nibbles[:, 0::2] << np.uint8(4)) | nibbles[:, 1::2])
    return octets.view(">u8").astype(np.uint64)


def all_timestamps(values: pa.Array | pa.ChunkedArray) -> bool:
    """Every text (nulls aside) is in `TIMESTAMP`'s form.

    A lake's timestamps are nearly all of one length (the tracker's ``toISOString``: 24
    characters), but rarely all (the ingest writes no fraction for a whole second), so the column
    is not one matrix. The texts between two of another length are: each such run is checked as
    a matrix against the form of that length (`TimestampForm`), and the few others by the
    expression (about 40 ns per text instead of 110, probed on 8,192 of the tracker's)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return all(_all_timestamps(chunk) for chunk in chunks)


def _by_expression(values: pa.Array) -> bool:
    return pc.all(pc.match_substring_regex(values, TIMESTAMP)).as_py() is not False


class TimestampForm:
    """One length's `TIMESTAMP` form as the byte range allowed at each position: ``D`` a digit,
    ``S`` a digit 0-5, ``P`` a sign (+ or -), any other character itself."""

    def __init__(self, form: str) -> None:
        low = {"D": "0", "S": "0", "P": "+"}
        high = {"D": "9", "S": "5", "P": "-"}
        self.width = len(form)
        self._low = np.frombuffer("".join(low.get(c, c) for c in form).encode(), dtype=np.uint8)
        self._span = np.frombuffer("".join(high.get(c, c) for c in form).encode(), dtype=np.uint8) - self._low
        self._signs = np.array([i for i, c in enumerate(form) if c == "P"], dtype=np.int64)

    def matches(self, texts: npt.NDArray[np.uint8]) -> bool:
        """Every row of the (n, width) byte matrix is in the form (bytes wrap below the low end)."""
        if not bool(np.all((texts - self._low) <= self._span)):
            return False
        # "+" to "-" also lets "," (0x2C) through.
        return not self._signs.size or bool(np.all(texts[:, self._signs] != ord(",")))


#: `TIMESTAMP`'s six forms (no fraction, milliseconds, microseconds; Z or an offset), by length.
TIMESTAMP_FORMS = {
    form.width: form
    for form in (
        TimestampForm(f"DDDD-DD-DDTDD:DD:SD{fraction}{zone}")
        for fraction in ("", ".DDD", ".DDDDDD")
        for zone in ("Z", "PDD:DD")
    )
}


def _all_timestamps(values: pa.Array) -> bool:
    n = len(values)
    if not n or values.null_count == n:
        return True
    offsets = _offsets(values)
    lengths = np.diff(offsets)
    width = int(np.bincount(np.minimum(lengths, 64)).argmax())
    form = TIMESTAMP_FORMS.get(width)
    odd = lengths != width
    if values.null_count:
        odd |= ~np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.bool_)
    others = np.flatnonzero(odd)
    # Many runs would cost a numpy call each: the expression does those columns at once.
    if form is None or others.size > n // 16:
        return _by_expression(values)
    data = np.frombuffer(values.buffers()[2], dtype=np.uint8)
    starts = np.concatenate([[0], others + 1])
    stops = np.concatenate([others, [n]])
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        if stop > start and not form.matches(data[offsets[start] : offsets[stop]].reshape(-1, width)):
            return False
    return not others.size or _by_expression(values.take(pa.array(others)))
