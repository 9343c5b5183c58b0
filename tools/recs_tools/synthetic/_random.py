"""Vectorised random helpers shared by the generator's stages."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def count_of(fraction: float, total: int) -> int:
    """How many of ``total`` items a fraction selects: at least one whenever the fraction is positive.

    A fixed count instead of independent coin flips keeps small shops (the ``test`` preset)
    from ending up with none of a rare kind, which would make tests flaky across seeds.
    """
    if fraction <= 0.0 or total == 0:
        return 0
    return min(total, max(1, round(fraction * total)))


def choose_rows(cdf: FloatArray, rows: IntArray, rng: np.random.Generator) -> IntArray:
    """Draw one column per requested row from row-wise categorical distributions.

    Parameters
    ----------
    cdf
        ``(n_rows, n_cols)`` cumulative probabilities, each row ending at 1.
    rows
        Row of each draw.
    rng
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Chosen column of each draw.
    """
    u = rng.random(len(rows))
    chosen: IntArray = (cdf[rows] < u[:, None]).sum(axis=1, dtype=np.int64)
    last: int = cdf.shape[1] - 1
    return np.minimum(chosen, last)


def poisson_plus_one(mean: float | FloatArray, size: int, rng: np.random.Generator) -> IntArray:
    """Counts of at least one with the given mean: ``1 + Poisson(mean - 1)``."""
    lam = np.maximum(np.asarray(mean, dtype=np.float64) - 1.0, 0.0)
    return (1 + rng.poisson(lam, size=size)).astype(np.int64)


def hex_tokens(rng: np.random.Generator, n: int, n_bytes: int) -> list[str]:
    """``n`` distinct random lowercase hex strings of ``2 * n_bytes`` characters.

    Random (not sequential) like real browser and session ids, yet drawn from the seeded generator.
    """
    raw = rng.integers(0, 256, size=(n, n_bytes), dtype=np.uint8)
    # Redraw collisions so ids are unique however unlikely a clash is.
    while n > 1:
        _, first = np.unique(raw, axis=0, return_index=True)
        if len(first) == n:
            break
        dup = np.setdiff1d(np.arange(n), first)
        raw[dup] = rng.integers(0, 256, size=(len(dup), n_bytes), dtype=np.uint8)
    chars = np.empty((n, 2 * n_bytes), dtype=np.uint8)
    chars[:, 0::2] = _HEX[raw >> 4]
    chars[:, 1::2] = _HEX[raw & 0x0F]
    return _ascii_rows(chars)


def uuid4_strings(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` RFC 4122 version-4 UUID strings drawn from the seeded generator (not from the OS).

    With 122 random bits, a clash among even billions of ids is negligible, so none is checked.
    """
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    chars = np.full((n, 36), ord("-"), dtype=np.uint8)
    chars[:, 0:8] = digits[:, 0:8]
    chars[:, 9:13] = digits[:, 8:12]
    chars[:, 14:18] = digits[:, 12:16]
    chars[:, 19:23] = digits[:, 16:20]
    chars[:, 24:36] = digits[:, 20:32]
    return _ascii_rows(chars)


def _ascii_rows(chars: npt.NDArray[np.uint8]) -> list[str]:
    n, width = chars.shape
    text = np.ascontiguousarray(chars).tobytes().decode("ascii")
    return [text[i : i + width] for i in range(0, n * width, width)]
