"""EASE closed form on a hand-computable example."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine._typing import Csr
from recs.engine.ease import EASE


def _tiny() -> Csr:
    # Two users, two items: u0 has both, u1 has item 0 only.
    return sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.float32))


def test_ease_weights_match_the_closed_form() -> None:
    # Given XᵀX + λI = [[3, 1], [1, 2]] with λ = 1, whose inverse is [[2, -1], [-1, 3]] / 5
    # When EASE is fitted
    model = EASE(l2=1.0).fit(_tiny())
    # Then B_ij = -P_ij / P_jj: B_01 = (1/5) / (3/5) = 1/3, B_10 = (1/5) / (2/5) = 1/2, diag 0
    np.testing.assert_allclose(model._weights(), [[0.0, 1 / 3], [0.5, 0.0]], rtol=1e-5)


def test_ease_scores_and_recommends_unseen_items() -> None:
    # Given the fitted tiny model
    model = EASE(l2=1.0).fit(_tiny())
    history = sp.csr_matrix(np.array([[0, 1]], dtype=np.float32))
    # When a user who has item 1 asks for 2 items with already-seen filtered
    ids, scores = model.recommend([0], history, n=2)
    # Then item 0 scores B_10 = 0.5 and the seen item is padding
    assert ids.tolist() == [[0, -1]]
    assert scores[0, 0] == pytest.approx(0.5)


def test_ease_similar_items_excludes_self() -> None:
    # Given a fitted model on random data
    matrix = sp.random(30, 12, density=0.3, format="csr", dtype=np.float32, random_state=4)
    model = EASE(l2=5.0).fit(matrix)
    # When similar items are asked for every item
    ids, _ = model.similar_items(np.arange(12), n=4)
    # Then an item is never its own neighbour
    assert not (ids == np.arange(12)[:, None]).any()


def test_ease_refuses_catalogs_above_its_limit() -> None:
    # Given a model limited to 2 items / When fitted on 3 items / Then ValueError
    matrix = sp.csr_matrix(np.ones((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="max_items"):
        EASE(max_items=2).fit(matrix)
