"""Visitors' rows of stored arrays, selected with numpy alone: a saved model's user rows (the
engine's ``.npz``, `recs.engine.base.Recommender.save`) and the rows of a CSR matrix kept as plain
arrays (`recs.training.publish.sparse_arrays`).

The purge function carries numpy and pyarrow (the lake is Parquet), not scipy: both do not fit in
one function (template.yaml, ArrowLayer). So the artifact scrub rewrites these files as arrays
instead of loading them through the engine's classes; `tests/unit/privacy/test_artifact_scrub.py`
loads what it writes with the engine.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

#: Where `Recommender.save` writes the model's class tag.
MODEL_TAG = "__model__"
#: Per class tag, the arrays holding one row per user: dense rows of one array (ALS's factors),
#: or a CSR matrix's parts, ``(indptr, indices, value arrays sharing the pattern, shape)``
#: (user-kNN's vectors and shares). EASE and popularity keep no user row.
DENSE_USER_ROWS: dict[str, str] = {"als": "user_factors"}
CSR_USER_ROWS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "userknn": ("indptr", "indices", ("vector_values", "share_values"), "shape")
}
NO_USER_ROWS = frozenset({"ease", "popularity"})

Keep = npt.NDArray[np.bool_]
Arrays = dict[str, npt.NDArray[Any]]


class UnknownModelError(ValueError):
    """A saved model of a class whose user rows this module does not know."""


def csr_rows(indptr: npt.NDArray[Any], keep: Keep) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """The kept rows of a CSR matrix: their ``indptr``, and the positions of their entries in the
    matrix's ``indices`` and value arrays (in order, so each kept row stays as it was)."""
    starts = indptr[:-1][keep].astype(np.int64)
    lengths = np.diff(indptr)[keep].astype(np.int64)
    kept = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=kept[1:])
    positions = np.repeat(starts - kept[:-1], lengths) + np.arange(kept[-1], dtype=np.int64)
    return kept.astype(indptr.dtype), positions


def csr_without_rows(arrays: Arrays, parts: tuple[str, str, tuple[str, ...], str], keep: Keep) -> Arrays:
    """The CSR matrix named by ``parts`` with only the kept rows (the other arrays untouched)."""
    indptr_key, indices_key, value_keys, shape_key = parts
    indptr, positions = csr_rows(arrays[indptr_key], keep)
    shape = arrays[shape_key]
    scrubbed = dict(arrays)
    scrubbed[indptr_key] = indptr
    scrubbed[indices_key] = arrays[indices_key][positions]
    for key in value_keys:
        scrubbed[key] = arrays[key][positions]
    scrubbed[shape_key] = np.array([int(keep.sum()), int(shape[1])], dtype=shape.dtype)
    return scrubbed


def read_npz(data: bytes) -> Arrays:
    """Every array of an ``.npz``, in the file's order (no pickle)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def write_npz(arrays: Arrays) -> bytes:
    """Arrays as ``.npz``, as `Recommender.save` writes them (uncompressed, no pickle)."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def model_tag(arrays: Arrays) -> str:
    if MODEL_TAG not in arrays:
        raise UnknownModelError("not a saved recs model: no class tag")
    return str(arrays[MODEL_TAG])


def model_user_rows(arrays: Arrays) -> int | None:
    """How many user rows a saved model keeps (None for a model that keeps none)."""
    tag = model_tag(arrays)
    if tag in DENSE_USER_ROWS:
        return int(arrays[DENSE_USER_ROWS[tag]].shape[0])
    if tag in CSR_USER_ROWS:
        return int(arrays[CSR_USER_ROWS[tag][0]].shape[0]) - 1
    if tag in NO_USER_ROWS:
        return None
    raise UnknownModelError(f"a {tag!r} model, whose user rows are not known here")


def model_without_rows(arrays: Arrays, keep: Keep) -> Arrays:
    """A saved model's arrays with only the kept user rows (a model without user rows as is)."""
    tag = model_tag(arrays)
    if tag in DENSE_USER_ROWS:
        key = DENSE_USER_ROWS[tag]
        return {**arrays, key: np.ascontiguousarray(arrays[key][keep])}
    if tag in CSR_USER_ROWS:
        return csr_without_rows(arrays, CSR_USER_ROWS[tag], keep)
    if tag in NO_USER_ROWS:
        return arrays
    raise UnknownModelError(f"a {tag!r} model, whose user rows are not known here")
