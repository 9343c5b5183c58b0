"""Settings of the training function: where things are, plus every training parameter.

Each field of `recs.training.parameters.TrainingParameters` is also an environment variable
of the same name (e.g. ``ALS_FACTORS=128``, ``EVENT_WEIGHTS='{"purchase": 5, ...}'``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from recs.config.common import CacheSettings, PseudonymSettings
from recs.training.parameters import TrainingParameters


class TrainSettings(CacheSettings, PseudonymSettings, TrainingParameters):
    client_profile: Literal["interactive", "batch"] = Field(
        default="batch", description="Timeouts and retries of the function's AWS clients."
    )
    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    lake_bucket_name: str = Field(min_length=3, description="The event lake Firehose writes to.")
    lake_prefix: str = Field(default="events/", description="Prefix Firehose writes under.")
    artifact_bucket_name: str = Field(min_length=3, description="Model artifacts and the catalog export.")
    model_table_name: str = Field(min_length=3)
    state_table_name: str = Field(min_length=3)
    state_scan_segments: int = Field(
        default=8, ge=1, le=64, description="Parallel segments of the opt-out / erasure scan."
    )
    prepare_container_min_lake_bytes: int = Field(
        default=0,
        ge=0,
        description="Prepare in the training container (PlanPrepare) when the window's lake "
        "objects add up to at least this many bytes; 0 never does (the stack's "
        "PrepareContainerMinLakeBytes).",
    )
    training_lease_seconds: int = Field(
        default=6 * 3600,
        ge=60,
        description="How long a run's lease lasts: longer than any run, so that only a run that "
        "died without giving it back blocks the next one, and only until then.",
    )
    lists_table_prefix: str = Field(
        default="",
        pattern=r"^$|^[A-Za-z0-9_.-]{3,200}$",
        description="Names of the tables users' lists are imported into: <prefix>-<version> "
        "(IMPORT_TABLE_MIN_USERS > 0; the template sets <stack>-lists).",
    )
    publish_write_threads: int = Field(
        default=8, ge=1, le=64, description="Concurrent BatchWriteItem calls per publish shard."
    )
