"""Optional re-weighting of interaction strengths."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recs.model.weighting import bm25_weight, log_scale


def test_bm25_boosts_rare_items_and_keeps_sparsity() -> None:
    # Given item 0 used by everyone and item 1 by one user, same strengths
    matrix = sp.csr_matrix(np.array([[1, 1], [1, 0], [1, 0]], dtype=np.float32))
    # When BM25 weights are applied
    weighted = bm25_weight(matrix, k1=1.2, b=0.75)
    # Then the ubiquitous item gets weight 0 (idf = log 1) and the rare item a positive one
    assert weighted.dtype == np.float32
    np.testing.assert_array_equal(weighted.indices, matrix.indices)
    assert weighted[0, 0] == 0.0
    assert weighted[0, 1] > 0.0


def test_log_scale_is_log1p() -> None:
    # Given strengths 1 and 3 / When log-scaled with epsilon 1 / Then log(2) and log(4)
    matrix = sp.csr_matrix(np.array([[1, 3]], dtype=np.float32))
    np.testing.assert_allclose(log_scale(matrix).data, np.log1p([1.0, 3.0]), rtol=1e-6)
