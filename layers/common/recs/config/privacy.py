from __future__ import annotations

from pydantic import Field

from recs.config.common import CacheSettings, PseudonymSettings


class PrivacySettings(CacheSettings, PseudonymSettings):
    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
