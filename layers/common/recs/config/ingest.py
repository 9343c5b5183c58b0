from __future__ import annotations

from pydantic import Field

from recs.config.common import PseudonymSettings


class IngestSettings(PseudonymSettings):
    delivery_stream_name: str = Field(min_length=1)
    state_table_name: str = Field(min_length=3)
    event_max_age_days: int = Field(default=90, ge=1, description="Older events are rejected; default 90.")
    event_max_future_seconds: int = Field(default=300, ge=0, description="Client clock skew allowed; 5 min.")
    session_max_items: int = Field(default=20, ge=1, le=200, description="Recent products kept per visitor.")
    session_ttl_seconds: int = Field(
        default=7 * 86_400, ge=60, description="Session signal lifetime; 7 days."
    )
