"""Settings of the privacy function and of the erasure purge (one model each)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from recs.config.auth import AuthSettings
from recs.config.common import CacheSettings, PseudonymSettings


class PrivacySettings(CacheSettings, PseudonymSettings, AuthSettings):
    """The privacy routes: preferences, status, erasure and export requests and receipts."""

    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    export_bucket_name: str = Field(min_length=3, description="Where data exports are written.")
    export_function_name: str = Field(min_length=1, description="The export job, invoked asynchronously.")
    export_retention_days: int = Field(
        default=7, ge=1, le=30, description="Days an export is kept (the bucket's lifecycle rule); default 7."
    )
    export_url_seconds: int = Field(
        default=300, ge=30, le=3600, description="Lifetime of an export's download URL; default 300 s."
    )
    export_stale_after_seconds: int = Field(
        default=3600,
        ge=900,
        description="A pending export older than this is reported failed (the job runs at most 15 minutes "
        "and Lambda retries it twice); default 3600 s.",
    )


class ExportSettings(PseudonymSettings):
    """The export job (`recs.privacy.export_job`), invoked asynchronously by the privacy function."""

    client_profile: Literal["interactive", "batch"] = Field(
        default="batch", description="Timeouts and retries of the function's AWS clients."
    )

    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    export_bucket_name: str = Field(min_length=3, description="Where data exports are written.")
    lake_bucket_name: str = Field(min_length=3, description="The event lake Firehose writes to.")
    lake_prefix: str = Field(default="events/", description="Prefix Firehose writes under.")
    export_prefetch: int = Field(
        default=8, ge=1, le=64, description="Lake objects downloaded ahead of the scan; default 8."
    )


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
    export_bucket_name: str = Field(
        min_length=3, description="Data exports: an erased user's are deleted with the rest."
    )
    state_scan_segments: int = Field(
        default=8, ge=1, le=64, description="Parallel segments of the tombstone scan; default 8."
    )
    purge_prefetch: int = Field(
        default=8, ge=1, le=64, description="Lake objects downloaded ahead of the scan; default 8."
    )
