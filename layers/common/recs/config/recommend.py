from __future__ import annotations

from pydantic import Field

from recs.config.common import CacheSettings, PseudonymSettings


class RecommendSettings(CacheSettings, PseudonymSettings):
    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    pointer_ttl_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long the current-version pointer is held in memory; default 15 s.",
    )
