"""RecommendSettings: required settings have no default; structured ones are validated JSON."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from recs.config.recommend import RecommendSettings
from recs.serving.sources import Source

REQUIRED = {
    "MODEL_TABLE_NAME": "models",
    "STATE_TABLE_NAME": "state",
    "PSEUDONYM_SECRET_ID": "secret",
    "CACHE_URL": "",
    "AUTH_ISSUER_URL": "",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def test_a_missing_required_setting_is_named(environment: pytest.MonkeyPatch) -> None:
    # Given an environment without MODEL_TABLE_NAME
    environment.delenv("MODEL_TABLE_NAME")
    # When the settings are loaded
    # Then loading fails, naming model_table_name
    with pytest.raises(ValidationError, match="model_table_name"):
        RecommendSettings()


def test_chains_and_experiments_come_from_json(environment: pytest.MonkeyPatch) -> None:
    # Given a cart chain and a cart experiment, each set as JSON in its environment variable
    environment.setenv("FALLBACK_CHAINS", json.dumps({"cart": ["bought-together", "popular"]}))
    environment.setenv(
        "EXPERIMENTS",
        json.dumps([{"name": "e", "contexts": ["cart"], "variants": [{"name": "a", "weight": 1}]}]),
    )
    # When the settings are loaded
    settings = RecommendSettings()
    # Then both are parsed into their models
    assert settings.fallback_chains.cart == [Source.BOUGHT_TOGETHER, Source.POPULAR]
    assert settings.experiments[0].variants[0].name == "a"


def test_a_bad_chain_stops_the_cold_start_naming_it(environment: pytest.MonkeyPatch) -> None:
    # Given a homepage chain with neither popular nor trending
    environment.setenv("FALLBACK_CHAINS", json.dumps({"homepage": ["user", "session"]}))
    # When the settings are loaded
    # Then loading fails, naming the homepage chain and what it lacks
    with pytest.raises(ValidationError, match="homepage chain must include popular or trending"):
        RecommendSettings()


def test_overlapping_experiments_are_refused(environment: pytest.MonkeyPatch) -> None:
    # Given two experiments that both cover every context (the default)
    experiment = {"name": "e", "variants": [{"name": "a", "weight": 1}]}
    environment.setenv("EXPERIMENTS", json.dumps([experiment, {**experiment, "name": "f"}]))
    # When the settings are loaded
    # Then they are refused as covering the same context
    with pytest.raises(ValidationError, match="both cover"):
        RecommendSettings()
