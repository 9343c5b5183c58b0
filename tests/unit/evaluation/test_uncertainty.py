"""Paired bootstrap of a difference between two methods scored on the same users."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recs.evaluation import ndcg_at_k, ndcg_per_user, paired_bootstrap


def test_a_clear_difference_has_an_interval_that_excludes_zero() -> None:
    # Given 2,000 users where method A beats method B by 0.05 on average, with noise
    rng = np.random.default_rng(7)
    b = rng.uniform(0.0, 0.5, 2000)
    a = b + 0.05 + rng.normal(0.0, 0.02, 2000)
    # When the difference is bootstrapped
    result = paired_bootstrap(a, b, resamples=1000, seed=1)
    # Then the interval sits around 0.05, excludes zero, and the comparison is decided
    assert result.low < 0.05 < result.high
    assert result.low > 0
    assert result.decided
    assert result.users == 2000


def test_a_tie_has_an_interval_that_straddles_zero() -> None:
    # Given two methods whose per-user values are the same draws in another order
    rng = np.random.default_rng(8)
    a = rng.uniform(0.0, 1.0, 500)
    b = rng.permutation(a)
    # When bootstrapped
    result = paired_bootstrap(a, b, resamples=1000, seed=2)
    # Then the mean difference is zero and the interval includes zero: not decided
    assert result.mean == pytest.approx(0.0, abs=1e-12)
    assert result.low < 0 < result.high
    assert not result.decided


def test_the_same_seed_gives_the_same_interval() -> None:
    # Given fixed per-user values
    rng = np.random.default_rng(9)
    a, b = rng.uniform(size=300), rng.uniform(size=300)
    # When bootstrapped twice with one seed and once with another
    first, second = paired_bootstrap(a, b, seed=3), paired_bootstrap(a, b, seed=3)
    other = paired_bootstrap(a, b, seed=4)
    # Then the seed reproduces the interval exactly, and another seed moves it
    assert (first.low, first.high) == (second.low, second.high)
    assert (first.low, first.high) != (other.low, other.high)


def test_misaligned_or_empty_inputs_are_refused() -> None:
    # Given/When arrays of different lengths, no users or a bad level / Then each is refused
    with pytest.raises(ValueError, match="aligned"):
        paired_bootstrap(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="no users"):
        paired_bootstrap(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="level"):
        paired_bootstrap(np.zeros(3), np.zeros(3), level=1.0)


def test_per_user_ndcg_averages_to_ndcg_and_skips_users_without_held_out_items() -> None:
    # Given three users, the second with nothing held out
    heldout = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1]], dtype=np.float32))
    top = np.array([[0, 1], [2, 3], [1, 2]], dtype=np.int32)
    # When per-user NDCG@2 is computed
    per_user = ndcg_per_user(top, heldout, 2)
    # Then there is one value per user with held-out items: a hit at rank 1, and a hit at rank 2
    # of two relevant items (DCG 1/log2(3) over the ideal 1 + 1/log2(3))
    assert per_user.tolist() == pytest.approx([1.0, (1 / np.log2(3)) / (1 + 1 / np.log2(3))])
    # and their mean is NDCG@2
    assert ndcg_at_k(top, heldout, 2) == pytest.approx(per_user.mean())
