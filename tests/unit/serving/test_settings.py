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
    environment.delenv("MODEL_TABLE_NAME")
    with pytest.raises(ValidationError, match="model_table_name"):
        RecommendSettings()


def test_chains_and_experiments_come_from_json(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("FALLBACK_CHAINS", json.dumps({"cart": ["bought-together", "popular"]}))
    environment.setenv(
        "EXPERIMENTS",
        json.dumps([{"name": "e", "contexts": ["cart"], "variants": [{"name": "a", "weight": 1}]}]),
    )
    settings = RecommendSettings()
    assert settings.fallback_chains.cart == [Source.BOUGHT_TOGETHER, Source.POPULAR]
    assert settings.experiments[0].variants[0].name == "a"


def test_a_bad_chain_stops_the_cold_start_naming_it(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("FALLBACK_CHAINS", json.dumps({"homepage": ["user", "session"]}))
    with pytest.raises(ValidationError, match="homepage chain must include popular or trending"):
        RecommendSettings()


def test_overlapping_experiments_are_refused(environment: pytest.MonkeyPatch) -> None:
    experiment = {"name": "e", "variants": [{"name": "a", "weight": 1}]}
    environment.setenv("EXPERIMENTS", json.dumps([experiment, {**experiment, "name": "f"}]))
    with pytest.raises(ValidationError, match="both cover"):
        RecommendSettings()
