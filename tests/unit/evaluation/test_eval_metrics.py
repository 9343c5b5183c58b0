"""Ranking metrics on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recs.engine._typing import Csr
from recs.evaluation.metrics import (
    coverage_at_k,
    evaluate_topk,
    graded_ndcg_per_user,
    hit_matrix,
    ndcg_at_k,
    ndcg_per_user,
    precision_at_k,
    recall_at_k,
)


def _heldout() -> Csr:
    # user 0 holds out items {1, 3}; user 1 holds out {0}; user 2 holds out nothing.
    dense = np.zeros((3, 5), dtype=np.float32)
    dense[0, [1, 3]] = 1
    dense[1, 0] = 1
    return sp.csr_matrix(dense)


TOPK = np.array([[3, 2, 1], [4, 2, -1], [0, 1, 2]], dtype=np.int32)


def test_hit_matrix_marks_held_out_items_and_never_padding() -> None:
    # Given the lists above / When hits are computed at 3
    hits = hit_matrix(TOPK, _heldout(), 3)
    # Then user 0 hits at ranks 0 and 2, user 1 never (padding -1 must not alias an item)
    assert hits.tolist() == [[True, False, True], [False, False, False], [False, False, False]]


def test_precision_and_recall_average_over_users_with_held_out_items() -> None:
    # Given user 0: 2 hits of 3, |rel| = 2; user 1: 0 hits; user 2 has no held-out items
    # When / Then precision = (2/3 + 0) / 2 and recall = (2/2 + 0) / 2
    assert precision_at_k(TOPK, _heldout(), 3) == pytest.approx((2 / 3) / 2)
    assert recall_at_k(TOPK, _heldout(), 3) == pytest.approx(0.5)


def test_ndcg_uses_an_ideal_capped_at_the_relevant_count() -> None:
    # Given user 0 with hits at ranks 0 and 2 and two relevant items
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    # When / Then NDCG@3 = mean(dcg / ideal, 0)
    assert ndcg_at_k(TOPK, _heldout(), 3) == pytest.approx((dcg / ideal) / 2)
    # And at k = 1 the ideal is a single hit: user 0 scores 1, user 1 scores 0
    assert ndcg_at_k(TOPK, _heldout(), 1) == pytest.approx(0.5)


def test_perfect_ranking_scores_one() -> None:
    # Given lists that put every held-out item first
    perfect = np.array([[1, 3, 0], [0, 4, 2]], dtype=np.int32)
    # When evaluated for users 0 and 1 explicitly / Then NDCG and recall are 1
    assert ndcg_at_k(perfect, _heldout(), 3, users=np.array([0, 1])) == pytest.approx(1.0)
    assert recall_at_k(perfect, _heldout(), 3, users=np.array([0, 1])) == pytest.approx(1.0)


def test_coverage_counts_distinct_recommended_items() -> None:
    # Given lists using items {0, 1, 2, 3, 4} at k=3 and {3, 4, 0} at k=1
    # When / Then coverage is the share of the 5-item catalog
    assert coverage_at_k(TOPK, 5, 3) == pytest.approx(5 / 5)
    assert coverage_at_k(TOPK, 5, 1) == pytest.approx(3 / 5)


def test_evaluate_topk_reports_everything_over_evaluated_users() -> None:
    # Given the example / When the report is built at k = 3
    report = evaluate_topk(TOPK, _heldout(), 3)
    # Then it matches the single metrics and coverage counts only users 0 and 1: {3, 2, 1, 4}
    assert report.users == 2
    assert report.precision == pytest.approx(precision_at_k(TOPK, _heldout(), 3))
    assert report.ndcg == pytest.approx(ndcg_at_k(TOPK, _heldout(), 3))
    assert report.coverage == pytest.approx(4 / 5)
    assert set(report.as_dict()) == {"k", "precision", "recall", "ndcg", "coverage", "users"}


def test_misaligned_inputs_are_rejected() -> None:
    # Given 2 lists for a 3-user held-out matrix / When no users= is given / Then ValueError
    with pytest.raises(ValueError, match="users="):
        precision_at_k(TOPK[:2], _heldout(), 3)
    with pytest.raises(ValueError, match="at least k"):
        ndcg_at_k(TOPK, _heldout(), 4)


def test_vectorised_metrics_match_a_loop_on_random_data() -> None:
    # Given random lists and held-out sets
    rng = np.random.default_rng(9)
    heldout = sp.random(50, 30, density=0.1, format="csr", dtype=np.float32, random_state=9)
    topk = np.stack([rng.permutation(30)[:10] for _ in range(50)]).astype(np.int32)
    # When precision is computed both ways
    rows = [u for u in range(50) if heldout[u].nnz]
    expected = np.mean([np.isin(topk[u], heldout[u].indices).sum() / 10 for u in rows])
    # Then they agree
    assert precision_at_k(topk, heldout, 10) == pytest.approx(expected)


def test_graded_ndcg_weighs_each_hit_by_its_gain() -> None:
    # Given user 0 held out a purchase (gain 5) and a view (gain 1), user 1 two views
    heldout = sp.csr_matrix(np.array([[0, 5, 1, 0], [1, 0, 0, 1]], dtype=np.float32))
    discount = 1 / np.log2(np.arange(2, 5))
    # When user 0 ranks the view above the purchase, and user 1 finds one of its two views
    ids = np.array([[2, 1, 0], [3, 2, 1]])
    graded = graded_ndcg_per_user(ids, heldout, 3)
    # Then each DCG counts the gains, and the ideal puts the largest gain first
    assert graded[0] == pytest.approx((1 + 5 * discount[1]) / (5 + 1 * discount[1]))
    assert graded[1] == pytest.approx(1 / (1 + discount[1]))
    # and with every gain 1 it is binary NDCG
    binary = heldout.copy()
    binary.data[:] = 1
    np.testing.assert_allclose(graded_ndcg_per_user(ids, binary, 3), ndcg_per_user(ids, binary, 3))
