"""Input guards: fail early with a clear message instead of a wrong answer later.

The models only accept what they were written for: a canonical float32 CSR matrix
(sorted indices, no duplicates) with finite, non-negative interaction strengths.
They never convert silently, because a silent ``astype`` of a 10M-nonzero matrix
doubles peak memory inside a Lambda and hides an upstream bug.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from recs.engine._typing import BoolArray, Csr, IntArray


def check_csr(
    matrix: Any, name: str = "user_items", shape: tuple[int | None, int | None] = (None, None)
) -> Csr:
    """Validate an interaction matrix and return it unchanged.

    Parameters
    ----------
    matrix
        Candidate matrix; must be a ``scipy.sparse`` CSR matrix or array.
    name
        Argument name used in error messages.
    shape
        Expected ``(rows, columns)``; ``None`` leaves a dimension unchecked.

    Returns
    -------
    Csr
        The same object, so the call can be used inline.

    Raises
    ------
    ValueError
        If the matrix is not CSR, not float32, not in canonical format, has the wrong
        shape, or holds negative or non-finite values.
    """
    if not sp.issparse(matrix) or matrix.format != "csr":
        raise ValueError(f"{name} must be a scipy.sparse CSR matrix, got {type(matrix).__name__}")
    if matrix.dtype != np.float32:
        raise ValueError(f"{name} must have dtype float32, got {matrix.dtype}; convert it once upstream")
    if not matrix.has_canonical_format:
        raise ValueError(
            f"{name} must be in canonical CSR format (sorted indices, no duplicates); "
            "call sum_duplicates() and sort_indices() first"
        )
    for axis, (expected, actual) in enumerate(zip(shape, matrix.shape, strict=True)):
        if expected is not None and expected != actual:
            what = "rows" if axis == 0 else "columns"
            raise ValueError(f"{name} has {actual} {what}, expected {expected}")
    data = matrix.data
    if data.size and not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if data.size and data.min() < 0:
        raise ValueError(f"{name} contains negative values; confidence weights must be >= 0")
    return matrix


def check_ids(ids: Any, upper: int, name: str) -> IntArray:
    """Return ``ids`` as a 1-D int32 array after checking every id is in ``[0, upper)``.

    Parameters
    ----------
    ids
        A single integer or a sequence/array of integers.
    upper
        Exclusive upper bound (the number of users or items the model knows).
    name
        Argument name used in error messages.

    Returns
    -------
    IntArray
        One-dimensional int32 copy (or view) of the ids.

    Raises
    ------
    ValueError
        If the ids are not integers, not one-dimensional, or out of range.
    """
    arr = np.asarray(ids)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= upper):
        raise ValueError(f"{name} must be in [0, {upper}), got values in [{arr.min()}, {arr.max()}]")
    return arr.astype(np.int32, copy=False)


def item_mask(filter_items: Any, n_items: int) -> BoolArray | None:
    """Turn an optional list of item ids or boolean mask into a boolean exclusion mask.

    Parameters
    ----------
    filter_items
        ``None``, a boolean array of length ``n_items`` (True = excluded) or item ids.
    n_items
        Catalog size.

    Returns
    -------
    BoolArray or None
        Mask with True for excluded items, or ``None`` when nothing is excluded.

    Raises
    ------
    ValueError
        If a boolean mask has the wrong length or an id is out of range.
    """
    if filter_items is None:
        return None
    arr = np.asarray(filter_items)
    if arr.dtype == np.bool_:
        if arr.shape != (n_items,):
            raise ValueError(f"filter_items mask must have shape ({n_items},), got {arr.shape}")
        return arr if arr.any() else None
    mask = np.zeros(n_items, dtype=np.bool_)
    mask[check_ids(arr, n_items, "filter_items")] = True
    return mask if mask.any() else None


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number > 0 (or >= 0)."""
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
