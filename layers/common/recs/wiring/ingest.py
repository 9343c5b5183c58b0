"""Wiring of the ingest function."""

from __future__ import annotations

from datetime import timedelta

from recs.adapters import aws
from recs.adapters.firehose import FirehoseSink
from recs.config.ingest import IngestSettings
from recs.ingest.service import IngestService
from recs.ingest.session_signal import SessionSignal
from recs.wiring.common import pseudonymizer, table, utc_now


def ingest_service(settings: IngestSettings) -> IngestService:
    state = table(settings.state_table_name)
    return IngestService(
        FirehoseSink(settings.delivery_stream_name, aws.client("firehose")),
        pseudonymizer(settings.pseudonym_secret_id),
        SessionSignal(
            state,
            max_items=settings.session_max_items,
            ttl_seconds=settings.session_ttl_seconds,
            clock=utc_now,
        ),
        max_age=timedelta(days=settings.event_max_age_days),
        max_future=timedelta(seconds=settings.event_max_future_seconds),
        clock=utc_now,
    )
