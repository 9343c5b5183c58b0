"""Coverage, popularity bias and metric comparisons of a version's lists, on small known cases."""

from __future__ import annotations

import pytest

from recs_tools.reports.model_stats import (
    gini,
    head_items,
    metric_rows,
    popularity_bias,
    popularity_percentiles,
    summarize_lists,
)

# Ten products: p0 the most popular (100 interactions) down to p9 (10).
POPULARITY = {f"p{n}": 100 - 10 * n for n in range(10)}


def test_head_is_the_top_tenth_rounded_up_with_ties_broken_by_id() -> None:
    # Given ten products, and three tied products
    # Then the head of ten is the single most popular, of three tied products the first by id
    assert head_items(POPULARITY) == {"p0"}
    assert head_items({"b": 5, "a": 5, "c": 5}) == {"a"}
    assert head_items({}) == set()


def test_percentiles_use_mid_ranks() -> None:
    # Given distinct counts, and all-equal counts
    distinct = popularity_percentiles(POPULARITY)
    equal = popularity_percentiles({"a": 3, "b": 3})
    # Then the most popular of ten sits at 95, the least at 5, and equal products at 50
    assert distinct["p0"] == pytest.approx(95.0)
    assert distinct["p9"] == pytest.approx(5.0)
    assert equal == {"a": 50.0, "b": 50.0}


def test_gini_of_equal_and_of_concentrated_exposure() -> None:
    # Given equal exposure, all exposure on one of four products, and nothing at all
    # Then the Gini coefficient is 0, (n-1)/n = 0.75 and 0
    assert gini([5, 5, 5, 5]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 8]) == pytest.approx(0.75)
    assert gini([]) == 0.0


def test_popularity_bias_of_lists_that_only_show_bestsellers() -> None:
    # Given two lists of three, both showing p0 first, then mid-popular products
    lists = [[("p0", 0.9), ("p4", 0.5), ("p5", 0.1)], [("p0", 0.8), ("p4", 0.6), ("p6", 0.2)]]
    # When their bias is measured over the top 2 of each list
    bias = popularity_bias(lists, POPULARITY, k=2)
    # Then half the shown slots are on the head (p0), which holds 100/550 of the interactions,
    # the mean percentile is that of p0 and p4 ((95 + 55) / 2), and exposure is concentrated on
    # 2 of the 10 products (Gini of [0]*8 + [2, 2])
    assert bias is not None
    assert bias.head_items == 1
    assert bias.head_share_of_recommendations == pytest.approx(0.5)
    assert bias.head_share_of_interactions == pytest.approx(100 / 550)
    assert bias.mean_popularity_percentile == pytest.approx(75.0)
    assert bias.gini == pytest.approx(gini([0] * 8 + [2, 2]))


def test_no_bias_without_interaction_counts() -> None:
    # Given lists but no popularity data, or popularity but no lists
    # Then there is no bias figure rather than a made-up one
    assert popularity_bias([[("p0", 1.0)]], {}, k=10) is None
    assert popularity_bias([], POPULARITY, k=10) is None


def test_summary_counts_coverage_against_the_catalog_and_keeps_the_shown_scores() -> None:
    # Given two lists of which the top 2 show three distinct products, in a catalog of 20
    lists = [[("p0", 0.9), ("p1", 0.5), ("p2", 0.1)], [("p0", 0.8), ("p3", 0.6)]]
    summary = summarize_lists(lists, POPULARITY, k=2, catalog_items=20)
    # Then coverage is 3/20, and only the shown slots' scores are kept
    assert (summary.lists, summary.distinct_items, summary.catalog_items) == (2, 3, 20)
    assert summary.coverage == pytest.approx(0.15)
    assert summary.scores == [0.9, 0.5, 0.8, 0.6]


def test_metric_rows_compare_with_baseline_and_previous() -> None:
    # Given this version's, the baseline's and the previous version's NDCG, and a metric the
    # previous version did not record
    rows = metric_rows({"ndcg": 0.3, "recall": 0.5}, {"ndcg": 0.2, "recall": 0.0}, {"ndcg": 0.4})
    ndcg = next(r for r in rows if r.name == "ndcg")
    recall = next(r for r in rows if r.name == "recall")
    # Then the changes are relative, and unknown where a reference is missing or zero
    assert ndcg.lift_over_baseline == pytest.approx(0.5)
    assert ndcg.change_from_previous == pytest.approx(-0.25)
    assert recall.lift_over_baseline is None
    assert recall.change_from_previous is None
