"""Pieces shared by the per-function settings models."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class FunctionSettings(BaseSettings):
    """Base of every function's settings: read from the environment, immutable, strict."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    powertools_trace_disabled: bool = Field(
        default=False,
        description="Powertools' switch: no X-Ray tracing (and none of its cold-start cost); default off.",
    )


class CacheSettings(FunctionSettings):
    """The cache is optional: an explicitly empty CACHE_URL selects the null cache."""

    cache_url: str = Field(
        description="redis:// or rediss:// URL of the cache; empty means no cache (null cache)."
    )
    cache_connect_timeout_ms: int = Field(default=50, ge=1, le=5000, description="Default 50 ms.")
    cache_read_timeout_ms: int = Field(default=30, ge=1, le=5000, description="Default 30 ms.")
    cache_ttl_seconds: int = Field(
        default=86_400, ge=60, description="Lifetime of cached lists; default 1 day."
    )

    @field_validator("cache_url")
    @classmethod
    def _cache_url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("CACHE_URL must be empty or start with redis:// or rediss://")
        return value


class PseudonymSettings(FunctionSettings):
    pseudonym_secret_id: str = Field(
        min_length=1, description="Secrets Manager id (name or ARN) of the keyed-hash secret."
    )
