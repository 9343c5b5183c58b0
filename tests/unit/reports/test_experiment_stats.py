"""Experiment statistics against answers worked out by hand (and scipy's chi-square as a check)."""

from __future__ import annotations

import pytest

from recs_tools.reports.experiment_stats import (
    Cell,
    aggregate,
    chi_square,
    compare,
    two_proportion_z_test,
    wilson_interval,
)


def _rid(variant: str, nonce: int, context: str = "homepage", experiment: str = "hp-test") -> str:
    return f"r1:{context}:user:{experiment}:{variant}:{nonce:016x}"


def test_wilson_interval_matches_the_textbook_values() -> None:
    # Given 5 successes in 10 trials and 0 in 10 (95%, z = 1.959964)
    # When their Wilson intervals are computed
    half = wilson_interval(5, 10)
    none = wilson_interval(0, 10)
    # Then they are the published values: 0.2366-0.7634, and 0-0.2775 (z²/(n+z²))
    assert half.low == pytest.approx(0.23659, abs=1e-5)
    assert half.high == pytest.approx(0.76341, abs=1e-5)
    assert none.low == 0.0
    assert none.high == pytest.approx(3.841459 / 13.841459, abs=1e-6)


def test_wilson_interval_without_trials_is_uninformative_and_narrows_with_more_data() -> None:
    # Given no trials, then the same 30% rate on 100 and on 10,000 trials
    empty = wilson_interval(0, 0)
    small, large = wilson_interval(30, 100), wilson_interval(3000, 10_000)
    # Then no trials say nothing, and more trials give a narrower interval around the rate
    assert (empty.low, empty.high) == (0.0, 1.0)
    assert small.low < large.low < 0.3 < large.high < small.high


def test_two_proportion_z_test_matches_a_hand_computation_and_the_chi_square() -> None:
    # Given 30/100 in the reference and 45/100 in the treatment: pooled p = 0.375,
    # se = sqrt(0.375 * 0.625 * 0.02) = 0.0684653, z = 0.15 / se = 2.19089
    test = two_proportion_z_test(30, 100, 45, 100)
    chi = chi_square([30, 45], [100, 100])
    # Then z and its two-sided p-value are as computed, and the 2x2 chi-square (no continuity
    # correction) is z squared with the same p-value
    assert test is not None
    assert chi is not None
    assert test.z == pytest.approx(2.19089, abs=1e-5)
    assert test.p_value == pytest.approx(0.028459, abs=1e-5)
    assert chi.statistic == pytest.approx(test.z**2, rel=1e-9)
    assert chi.p_value == pytest.approx(test.p_value, rel=1e-9)
    assert chi.dof == 1


def test_tests_are_undefined_without_trials_or_without_variance() -> None:
    # Given a group without trials, and two groups where nobody ever clicked
    # Then neither test pretends to an answer
    assert two_proportion_z_test(0, 0, 3, 10) is None
    assert two_proportion_z_test(0, 10, 0, 10) is None
    assert chi_square([0, 0], [10, 10]) is None
    assert chi_square([3], [10]) is None


def test_aggregate_counts_lists_not_events_and_keeps_every_rate_at_most_one() -> None:
    # Given three served lists of variant a and one of b, two clicks and a purchase on the
    # same list of a, and a click on a list of b whose served line is missing
    served = [_rid("a", 1), _rid("a", 2), _rid("a", 3), _rid("b", 4), _rid("a", 1), "not-an-id"]
    events = [
        {"eventType": "click", "recommendationId": _rid("a", 1)},
        {"eventType": "click", "recommendationId": _rid("a", 1)},
        {"eventType": "purchase", "recommendationId": _rid("a", 1)},
        {"eventType": "view", "recommendationId": _rid("a", 2)},
        {"eventType": "click", "recommendationId": _rid("b", 5)},
        {"eventType": "click", "recommendationId": "foreign-id"},
        {"eventType": "click"},
    ]
    # When aggregated
    counts = aggregate(served, events)
    # Then a has 3 impressions (duplicates once), 1 clicked and 1 bought list; b's clicked list
    # without a served line still counts as an impression, and is reported as unmatched
    a, b = counts[Cell("hp-test", "a", "homepage")], counts[Cell("hp-test", "b", "homepage")]
    assert (a.impressions, a.outcomes, a.unmatched) == (3, {"clicked": 1, "carted": 0, "bought": 1}, 0)
    assert (b.impressions, b.outcomes["clicked"], b.unmatched) == (2, 1, 1)


def test_compare_tests_each_variant_against_the_reference_per_context_and_outcome() -> None:
    # Given 100 homepage lists per variant, 30 clicked in "control" and 45 in "model"
    served = [_rid("control", n) for n in range(100)] + [_rid("model", 1000 + n) for n in range(100)]
    events = [{"eventType": "click", "recommendationId": _rid("control", n)} for n in range(30)]
    events += [{"eventType": "click", "recommendationId": _rid("model", 1000 + n)} for n in range(45)]
    # When compared with "control" as the reference
    comparisons = compare(aggregate(served, events), reference="control")
    ctr = next(c for c in comparisons if c.outcome == "clicked")
    # Then there is one comparison per outcome, the reference has no test of its own, and the
    # model's test is the hand-computed z-test
    assert [c.outcome for c in comparisons] == ["clicked", "carted", "bought"]
    control, model = ctr.variants
    assert (control.variant, control.versus_reference) == ("control", None)
    assert model.rate == pytest.approx(0.45)
    assert model.versus_reference is not None
    assert model.versus_reference.z == pytest.approx(2.19089, abs=1e-5)
    assert ctr.overall is not None
    assert ctr.overall.p_value == pytest.approx(0.028459, abs=1e-5)


def test_compare_falls_back_to_the_first_variant_by_name() -> None:
    # Given lists of variants "b" and "a" and a reference name that is not among them
    counts = aggregate([_rid("b", 1), _rid("a", 2)], [])
    # When compared
    comparisons = compare(counts, reference="control")
    # Then "a" is the reference
    assert {c.reference for c in comparisons} == {"a"}
