"""Sparse matrices as plain arrays in the version's npz artifacts (and back)."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


def csr_arrays(name: str, matrix: sp.csr_matrix) -> dict[str, Any]:
    """A CSR matrix as plain arrays (``<name>_data`` ...), for ``np.savez``."""
    return {
        f"{name}_data": matrix.data,
        f"{name}_indices": matrix.indices,
        f"{name}_indptr": matrix.indptr,
        f"{name}_shape": np.asarray(matrix.shape, dtype=np.int64),
    }


def csr_from(arrays: dict[str, Any], name: str) -> sp.csr_matrix:
    shape = tuple(int(v) for v in arrays[f"{name}_shape"])
    matrix = sp.csr_matrix(
        (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"]), shape=shape
    )
    matrix.sort_indices()
    return matrix
