"""User-kNN: neighbours are the most similar other users, scores their mean interaction shares."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine import UserKNN

# Two tastes: users 0-2 buy items 0-2, users 3-5 items 3-5; user 6 bought only item 0.
TASTES = sp.csr_matrix(
    np.array(
        [
            [2, 1, 1, 0, 0, 0],
            [1, 2, 1, 0, 0, 0],
            [1, 1, 2, 0, 0, 0],
            [0, 0, 0, 2, 1, 1],
            [0, 0, 0, 1, 2, 1],
            [0, 0, 0, 1, 1, 2],
            [1, 0, 0, 0, 0, 0],
        ],
        dtype=np.float32,
    )
)


def test_a_user_is_scored_by_the_shares_of_similar_users_never_their_own() -> None:
    # Given the two tastes and two neighbours per user
    model = UserKNN(neighbours=2).fit(TASTES)
    # When user 6 (one purchase of item 0) is scored, left out of its own neighbours
    scores = model.neighbour_scores(TASTES[6], np.array([6]))[0]
    # Then only the first taste's items score (its neighbours are users 0-2)
    assert scores[:3].min() > 0
    assert scores[3:].max() == 0
    # and the score is the mean share over the two neighbours (each row sums to 1)
    assert scores.sum() == pytest.approx(1.0)


def test_without_leaving_itself_out_a_user_is_its_own_nearest_neighbour() -> None:
    # Given one neighbour per user / When user 3 is scored with and without self-exclusion
    model = UserKNN(neighbours=1).fit(TASTES)
    with_self = model.neighbour_scores(TASTES[3])[0]
    without_self = model.neighbour_scores(TASTES[3], np.array([3]))[0]
    # Then with itself it gets back its own shares; without, another user's of the same taste
    np.testing.assert_allclose(with_self, TASTES[3].toarray()[0] / 4)
    assert not np.allclose(without_self, with_self)
    assert without_self[3:].sum() == pytest.approx(1.0)


def test_users_sharing_nothing_are_not_neighbours() -> None:
    # Given a query that shares no item with anyone / Then it scores nothing (no random neighbours)
    model = UserKNN(neighbours=3).fit(TASTES[:6])
    query = sp.csr_matrix(np.zeros((1, 6), dtype=np.float32))
    assert model.neighbour_scores(query).max() == 0


def test_similar_items_are_bought_by_the_same_users() -> None:
    # Given the two tastes / When item 0's neighbours are asked / Then they are items 1 and 2
    ids, _ = UserKNN().fit(TASTES).similar_items([0], n=2)
    assert sorted(ids[0].tolist()) == [1, 2]


def test_neighbours_must_be_positive() -> None:
    with pytest.raises(ValueError, match="neighbours"):
        UserKNN(neighbours=0)
