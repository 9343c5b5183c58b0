"""The quality gate: beat popularity (by a margin), do not regress against the serving version."""

from __future__ import annotations

import pytest

from recs.training.evaluate.holdout import gate
from recs.training.parameters import TrainingParameters


def _metrics(ndcg: float) -> dict[str, float]:
    return {"k": 10, "ndcg": ndcg, "precision": 0.1, "recall": 0.2, "coverage": 0.3, "users": 50}


def test_a_model_that_beats_popularity_passes() -> None:
    # Given a model at 0.30 against popularity at 0.10, no serving version
    decision = gate(_metrics(0.30), _metrics(0.10), TrainingParameters(), current_lift=None)
    # Then it passes with lift 3
    assert decision.passed
    assert decision.lift == pytest.approx(3.0)


@pytest.mark.parametrize("ndcg", [0.10, 0.05])
def test_a_model_that_does_not_beat_popularity_is_refused(ndcg: float) -> None:
    # Given a model no better than popularity (0.10)
    decision = gate(_metrics(ndcg), _metrics(0.10), TrainingParameters(), current_lift=None)
    # Then it is refused, saying why
    assert not decision.passed
    assert "does not beat popularity" in decision.reason


def test_the_popularity_margin_raises_the_bar() -> None:
    # Given a model 50% better than popularity and a required margin of 60%
    params = TrainingParameters(gate_popularity_margin=0.6)
    # When gated / Then refused; with 40% it passes
    assert not gate(_metrics(0.15), _metrics(0.10), params, current_lift=None).passed
    assert gate(_metrics(0.15), _metrics(0.10), TrainingParameters(gate_popularity_margin=0.4), None).passed


def test_a_model_whose_lift_fell_too_far_below_the_serving_versions_is_refused() -> None:
    # Given the serving version had a lift of 3.0 and regressions up to 20% are tolerated
    params = TrainingParameters(gate_max_regression=0.2)
    # When a candidate has lift 2.0 (a third lower) / Then refused; lift 2.5 passes
    refused = gate(_metrics(0.20), _metrics(0.10), params, current_lift=3.0)
    assert not refused.passed
    assert "serving version" in refused.reason
    assert gate(_metrics(0.25), _metrics(0.10), params, current_lift=3.0).passed


def test_no_evaluated_user_means_no_model() -> None:
    # Given nothing could be evaluated / Then refused
    decision = gate(None, None, TrainingParameters(), current_lift=None)
    assert not decision.passed
    assert decision.lift is None


def test_popularity_at_zero_passes_any_positive_model_without_a_lift() -> None:
    # Given popularity found nothing / When the model found something
    decision = gate(_metrics(0.05), _metrics(0.0), TrainingParameters(), current_lift=2.0)
    # Then it passes; the lift is undefined so no regression check applies
    assert decision.passed
    assert decision.lift is None
