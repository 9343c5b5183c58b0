"""Training parameters: from the environment (the function) and validated everywhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recs.config.train import TrainSettings
from recs.training.parameters import TrainingParameters

_REQUIRED = {
    "LAKE_BUCKET_NAME": "lake-bucket",
    "ARTIFACT_BUCKET_NAME": "artifact-bucket",
    "MODEL_TABLE_NAME": "model-table",
    "STATE_TABLE_NAME": "state-table",
    "CACHE_URL": "",
    "PSEUDONYM_SECRET_ID": "secret",
}


def test_the_function_reads_every_training_parameter_from_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the required settings and some training parameters as environment variables
    for key, value in _REQUIRED.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ALS_FACTORS", "128")
    monkeypatch.setenv("EVENT_WEIGHTS", '{"purchase": 10, "view": 1}')
    monkeypatch.setenv("GATE_POPULARITY_MARGIN", "0.1")
    # When the settings load
    settings = TrainSettings()
    params = settings.training_parameters()
    # Then the parameters carry them, and the recorded form is plain JSON
    assert params.als_factors == 128
    assert params.event_weights == {"purchase": 10.0, "view": 1.0}
    assert params.gate_popularity_margin == 0.1
    assert params.recorded()["als_factors"] == 128
    assert "lake_bucket_name" not in params.recorded()


def test_a_missing_required_setting_is_an_error_not_a_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no artifact bucket / When the settings load / Then it fails naming the field
    for key, value in _REQUIRED.items():
        if key != "ARTIFACT_BUCKET_NAME":
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("ARTIFACT_BUCKET_NAME", raising=False)
    with pytest.raises(ValidationError, match="artifact_bucket_name"):
        TrainSettings()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"event_weights": {"teleport": 1}}, "unknown event types"),
        ({"event_weights": {"view": 0}}, "at least one event weight"),
        ({"holdout_days": 50, "training_window_days": 90}, "holdout_days"),
        ({"als_factors": 0}, "als_factors"),
        ({"model_family": "svd"}, "model_family"),
    ],
)
def test_invalid_parameters_are_refused_with_the_reason(values: dict[str, object], field: str) -> None:
    # Given an invalid value / When validated / Then the error says what is wrong
    with pytest.raises(ValidationError, match=field):
        TrainingParameters.model_validate(values)


def test_the_default_event_weights_are_the_contracts_five() -> None:
    # Given no configuration / Then every event type the contract weighs has its documented weight
    # (docs/architecture.md, Events), and searches weigh nothing
    assert TrainingParameters().event_weights == {
        "purchase": 5.0,
        "add_to_cart": 3.0,
        "click": 2.0,
        "search_result_click": 2.0,
        "view": 1.0,
    }
