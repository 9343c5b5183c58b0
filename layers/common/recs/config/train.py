from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from recs.config.common import CacheSettings, PseudonymSettings
from recs.models.events import DEFAULT_EVENT_WEIGHTS


class TrainSettings(CacheSettings, PseudonymSettings):
    lake_bucket_name: str = Field(min_length=3)
    lake_prefix: str = Field(default="events/", description="Prefix Firehose writes under.")
    artifact_bucket_name: str = Field(min_length=3)
    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    training_window_days: int = Field(default=90, ge=1, description="Days of events read; default 90.")
    holdout_days: int = Field(default=3, ge=1, description="Last days held out for evaluation; default 3.")
    top_k: int = Field(default=100, ge=1, le=500, description="Items stored per user; default 100.")
    version_ttl_days: int = Field(default=30, ge=1, description="Rows of a version expire after; default 30.")
    event_weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS),
        description="JSON object eventType -> weight; default requirements.md's weights.",
    )
    publish_shard_users: int = Field(default=20_000, ge=10, description="Users per publish shard (Map).")

    @field_validator("event_weights", mode="before")
    @classmethod
    def _weights_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value
