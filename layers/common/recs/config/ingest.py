"""Settings of the ingest function (environment variables, read once at cold start)."""

from __future__ import annotations

from pydantic import Field, field_validator

from recs.config.auth import AuthSettings
from recs.config.common import CacheSettings, PseudonymSettings
from recs.contracts.events import EventType
from recs.ingest.sampling import SamplingRules


class IngestSettings(CacheSettings, PseudonymSettings, AuthSettings):
    delivery_stream_name: str = Field(min_length=1, description="Firehose stream of the event lake.")
    state_table_name: str = Field(min_length=3, description="Table of the live session signal.")
    event_max_age_days: int = Field(
        default=90, ge=1, description="Older events are rejected (training reads 90 days); default 90."
    )
    event_max_future_seconds: int = Field(
        default=300, ge=0, description="Client clock skew allowed into the future; default 5 min."
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=6_000_000,
        description="Larger request bodies get 413; default 1 MiB (Lambda takes at most 6 MB).",
    )
    delivery_max_attempts: int = Field(
        default=5, ge=1, le=20, description="PutRecordBatch calls per chunk, first included; default 5."
    )
    delivery_budget_seconds: float = Field(
        default=5.0,
        gt=0,
        le=10,
        description="No Firehose retry starts after this; then 503. Default 5 s (function timeout 15 s).",
    )
    session_max_items: int = Field(
        default=100,
        ge=1,
        le=200,
        description="Recent products kept per visitor: the session source seeds from the newest "
        "(at most 20) and never recommends any of them back. 100 rather than 20: in a long visit a "
        "product seen 30 steps ago stayed recommendable; on MovieLens validation sessions HR@20 "
        "rose with 50 and again with 100 (docs/serving.md); a short visit's row is as small as before.",
    )
    session_ttl_seconds: int = Field(
        default=7 * 86_400, ge=60, description="Session signal lifetime; 7 days."
    )
    visitor_events_per_hour: int = Field(
        default=600,
        ge=0,
        description="Events accepted per visitor (userId or anonId pseudonym) per clock hour; the "
        "excess is left out of the lake and the session and counted (overCap, EventsOverVisitorCap). "
        "Counted in the visitor's session row, no extra DynamoDB call; 0: no cap. Default 600 "
        "(one event every 6 s for an hour, far above a shopper's pace).",
    )
    sampling_rules: dict[EventType, int] = Field(
        default_factory=dict,
        description='Keep one in N events of a type in the lake, e.g. {"view": 4} (view, click and '
        "search only; N from 1 to 1000). Kept events carry sampleRate N and count N times in "
        "training; every event still feeds the live session. Default: none.",
    )

    @field_validator("sampling_rules")
    @classmethod
    def _valid_rules(cls, rules: dict[EventType, int]) -> dict[EventType, int]:
        SamplingRules(rules)  # raises ValueError naming the type or N at fault
        return rules

    def sampling(self) -> SamplingRules:
        return SamplingRules(self.sampling_rules)
