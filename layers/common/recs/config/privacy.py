"""Settings of the privacy function and of the erasure purge (one model each)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from recs.config.auth import AuthSettings
from recs.config.common import CacheSettings, PseudonymSettings


class PrivacySettings(CacheSettings, PseudonymSettings, AuthSettings):
    """The privacy routes: preferences, status, erasure requests and receipts."""

    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)


class PurgeSettings(CacheSettings, PseudonymSettings):
    """The purge step of the training workflow (`recs.privacy.purge`)."""

    client_profile: Literal["interactive", "batch"] = Field(
        default="batch", description="Timeouts and retries of the function's AWS clients."
    )

    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    lake_bucket_name: str = Field(min_length=3, description="The event lake Firehose writes to.")
    lake_prefix: str = Field(default="events/", description="Prefix Firehose writes under.")
    artifact_bucket_name: str = Field(min_length=3, description="Model artifacts of every version.")
    state_scan_segments: int = Field(
        default=8, ge=1, le=64, description="Parallel segments of the tombstone scan; default 8."
    )
    purge_prefetch: int = Field(
        default=8, ge=1, le=64, description="Lake objects downloaded ahead of the scan; default 8."
    )
