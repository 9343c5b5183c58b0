"""Top-K with exclusions, unavailable items, the buy-again fusion and reasons."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recs.contracts.recommendations import Reason
from recs.training.fit.ranking import FactorScorer, ItemWeightScorer, PopularityScorer, rank, top_of_rows


def _scorer() -> FactorScorer:
    # Two users, four items; user 0 prefers items 0 > 1 > 2 > 3, user 1 the reverse.
    users = np.array([[1.0], [-1.0]], dtype=np.float32)
    items = np.array([[4.0], [3.0], [2.0], [1.0]], dtype=np.float32)
    return FactorScorer(users, items - 2.5)


def test_lists_are_best_first_and_skip_each_users_exclusions() -> None:
    # Given user 0 already bought item 0 (excluded), user 1 nothing
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=np.float32))
    # When the top 2 are ranked
    lists = rank(_scorer(), 2, exclude=exclude)
    # Then user 0 gets 1, 2 and user 1 gets 3, 2, from the model
    assert lists.ids.tolist() == [[1, 2], [3, 2]]
    assert lists.reason is Reason.SIMILAR_USERS
    assert [r for _, _, r in lists.items_of(0)] == ["similar-users", "similar-users"]


def test_unavailable_items_are_never_ranked() -> None:
    # Given item 1 and item 3 unavailable
    unavailable = np.array([False, True, False, True])
    # When the top 3 are ranked
    lists = rank(_scorer(), 3, unavailable=unavailable)
    # Then only items 0 and 2 appear, padded with -1
    assert lists.ids.tolist() == [[0, 2, -1], [2, 0, -1]]
    assert lists.items_of(0) == [(0, 1.5, "similar-users"), (2, -0.5, "similar-users")]


def test_every_item_unavailable_gives_empty_lists() -> None:
    # Given nothing may be recommended / When ranked
    lists = rank(_scorer(), 2, unavailable=np.ones(4, dtype=np.bool_))
    # Then every list is empty
    assert lists.items_of(0) == []
    assert lists.items_of(1) == []


def test_a_strong_buy_again_signal_lifts_a_repurchase_to_the_top_with_its_reason() -> None:
    # Given user 0 regularly buys item 3 (its least preferred by the model)
    boost = sp.csr_matrix(np.array([[0, 0, 0, 0.8], [0, 0, 0, 0]], dtype=np.float32))
    # When ranked with the buy-again weight
    lists = rank(_scorer(), 2, boost=boost, boost_weight=4.0)
    # Then item 3 leads user 0's list, marked buy-again; user 1 is unaffected
    assert lists.items_of(0)[0][0] == 3
    assert lists.items_of(0)[0][2] == Reason.BUY_AGAIN.value
    assert lists.items_of(0)[1][2] == Reason.SIMILAR_USERS.value
    assert lists.ids[1].tolist() == [3, 2]


def test_a_zero_weight_leaves_the_models_order() -> None:
    # Given the same boost but weight 0 / When ranked
    boost = sp.csr_matrix(np.array([[0, 0, 0, 0.8], [0, 0, 0, 0]], dtype=np.float32))
    lists = rank(_scorer(), 2, boost=boost, boost_weight=0.0)
    # Then user 0 keeps the model's order and no buy-again reason
    assert lists.ids[0].tolist() == [0, 1]
    assert not lists.buy_again.any()


def test_item_weight_and_popularity_scorers_rank_like_their_models() -> None:
    # Given an item-item weight matrix linking 0 -> 2 and a history of item 0
    weights = np.zeros((3, 3), dtype=np.float32)
    weights[0, 2] = 1.0
    history = sp.csr_matrix(np.array([[1, 0, 0]], dtype=np.float32))
    # When ranked (the history's own item excluded) and by popularity
    item_based = rank(ItemWeightScorer(history, weights), 1, exclude=history)
    popular = rank(PopularityScorer(np.array([1, 5, 3], dtype=np.float32), rows=1), 2)
    # Then the linked item and the popular order come out, with their reasons
    assert item_based.items_of(0) == [(2, 1.0, "similar-items")]
    assert popular.ids.tolist() == [[1, 2]]
    assert popular.reason is Reason.POPULAR


def test_top_of_rows_orders_stored_entries() -> None:
    # Given purchase counts per user
    counts = sp.csr_matrix(np.array([[0, 2, 5], [1, 0, 0], [0, 0, 0]], dtype=np.float32))
    # When the top 2 per row are taken
    ids, scores = top_of_rows(counts, 2)
    # Then rows are ordered by count and padded
    assert ids.tolist() == [[2, 1], [0, -1], [-1, -1]]
    assert scores[0].tolist() == [5.0, 2.0]
