"""Pieces shared by the per-function settings models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class ClientProfile:
    """How long an AWS client waits and how often botocore retries, by kind of work."""

    name: str
    connect_timeout: float
    read_timeout: float
    max_attempts: int
    max_pool_connections: int = 32


#: A caller is waiting (an API request): fail fast, so the function can fall back or answer 503.
INTERACTIVE = ClientProfile("interactive", connect_timeout=1.0, read_timeout=2.0, max_attempts=3)
#: A batch step (training, purge, catalog feed): large objects, patient retries, wide pools;
#: Step Functions retries the whole step on top.
BATCH = ClientProfile(
    "batch", connect_timeout=2.0, read_timeout=60.0, max_attempts=5, max_pool_connections=64
)
CLIENT_PROFILES = {profile.name: profile for profile in (INTERACTIVE, BATCH)}


class FunctionSettings(BaseSettings):
    """Base of every function's settings: read from the environment, immutable, strict."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    #: Overridden per function (`interactive` for API functions, `batch` for the others).
    client_profile: Literal["interactive", "batch"] = Field(
        default="interactive", description="Timeouts and retries of the function's AWS clients."
    )

    @property
    def clients(self) -> ClientProfile:
        return CLIENT_PROFILES[self.client_profile]

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
