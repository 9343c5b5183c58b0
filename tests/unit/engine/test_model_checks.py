"""Input guards raise clear errors instead of silently converting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine._typing import Csr
from recs.engine.checks import check_csr, check_ids, item_mask


def _valid() -> Csr:
    return sp.csr_matrix(np.array([[1, 0], [0, 2]], dtype=np.float32))


def test_valid_matrix_is_returned_unchanged() -> None:
    # Given a canonical float32 CSR / When checked / Then the same object comes back
    matrix = _valid()
    assert check_csr(matrix, shape=(2, 2)) is matrix


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: np.ones((2, 2), dtype=np.float32), "CSR"),
        (lambda: _valid().tocsc(), "CSR"),
        (lambda: _valid().astype(np.float64), "float32"),
        (lambda: sp.csr_matrix(([1.0, 2.0], [1, 0], [0, 2, 2]), shape=(2, 2), dtype=np.float32), "canonical"),
        (lambda: sp.csr_matrix(np.array([[1, -1]], dtype=np.float32)), "negative"),
        (lambda: sp.csr_matrix(np.array([[1, np.nan]], dtype=np.float32)), "NaN"),
    ],
    ids=["dense", "csc", "float64", "unsorted", "negative", "nan"],
)
def test_invalid_matrices_are_rejected(make: Callable[[], Any], message: str) -> None:
    # Given an invalid input / When checked / Then ValueError explains why
    with pytest.raises(ValueError, match=message):
        check_csr(make())


def test_shape_mismatch_names_the_dimension() -> None:
    # Given a 2x2 matrix / When 3 columns are expected / Then the message says columns
    with pytest.raises(ValueError, match="2 columns, expected 3"):
        check_csr(_valid(), "user_items", (None, 3))


def test_ids_are_checked_for_range_and_type() -> None:
    # Given ids / When checked / Then in-range ints pass as int32 and others fail
    assert check_ids(3, 5, "userids").tolist() == [3]
    assert check_ids([0, 4], 5, "userids").dtype == np.int32
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        check_ids([5], 5, "userids")
    with pytest.raises(ValueError, match="integers"):
        check_ids([0.5], 5, "userids")


def test_item_mask_accepts_ids_or_booleans() -> None:
    # Given ids and a boolean mask / When converted / Then both yield the same mask
    from_ids = item_mask([1], 3)
    from_bools = item_mask(np.array([False, True, False]), 3)
    assert from_ids is not None
    assert from_bools is not None
    np.testing.assert_array_equal(from_ids, from_bools)
    assert item_mask(None, 3) is None
    with pytest.raises(ValueError, match="shape"):
        item_mask(np.array([True]), 3)
