"""Popularity baseline."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recs.engine.popularity import Popularity


def test_popularity_ranks_by_distinct_users_and_filters_seen() -> None:
    # Given item 2 used by 3 users, item 0 by 2, item 1 by 1
    matrix = sp.csr_matrix(np.array([[1, 0, 5], [1, 0, 1], [0, 1, 1]], dtype=np.float32))
    model = Popularity().fit(matrix)
    # When user 2 (who has items 1 and 2) asks for 3 items
    ids, scores = model.recommend([2], matrix[2], n=3)
    # Then only item 0 remains, scored by its 2 users
    assert ids.tolist() == [[0, -1, -1]]
    assert scores[0, 0] == 2.0


def test_weighted_popularity_sums_strengths_and_honours_unavailable_items() -> None:
    # Given strengths that make item 2 the heaviest
    matrix = sp.csr_matrix(np.array([[1, 0, 5], [1, 0, 1], [0, 1, 1]], dtype=np.float32))
    model = Popularity(weighted=True).fit(matrix)
    empty = sp.csr_matrix((1, 3), dtype=np.float32)
    # When item 2 is unavailable
    ids, _ = model.recommend([0], empty, n=2, filter_items=[2])
    # Then it is skipped
    assert ids.tolist() == [[0, 1]]
