"""Wiring of the ingest function."""

from __future__ import annotations

from datetime import timedelta

from recs.adapters import aws
from recs.adapters.firehose import FirehoseSink
from recs.adapters.versioned_rows import DynamoVersionedRows
from recs.config.ingest import IngestSettings
from recs.ingest.service import IngestService
from recs.ingest.session_signal import SessionSignal
from recs.ingest.validation import TimeWindow
from recs.wiring.auth import subject_policy
from recs.wiring.common import cache, pseudonymizer, utc_now


def ingest_service(settings: IngestSettings) -> IngestService:
    # No botocore retries on Firehose: the sink retries within its own time budget.
    firehose = aws.client("firehose", settings.clients, read_timeout=3.0, max_attempts=1)
    # The session signal is a convenience: shorter timeouts, one botocore retry, then give up.
    state = aws.client("dynamodb", settings.clients, connect_timeout=0.5, read_timeout=1.0, max_attempts=2)
    return IngestService(
        FirehoseSink(
            settings.delivery_stream_name,
            firehose,
            max_attempts=settings.delivery_max_attempts,
            budget_seconds=settings.delivery_budget_seconds,
        ),
        pseudonymizer(settings.pseudonym_secret_id),
        SessionSignal(
            DynamoVersionedRows(settings.state_table_name, state),
            cache(settings),
            max_items=settings.session_max_items,
            ttl_seconds=settings.session_ttl_seconds,
            clock=utc_now,
            cap=settings.visitor_events_per_hour,
        ),
        window=TimeWindow(
            max_age=timedelta(days=settings.event_max_age_days),
            max_future=timedelta(seconds=settings.event_max_future_seconds),
        ),
        max_body_bytes=settings.max_body_bytes,
        clock=utc_now,
        # Events about a user need that user's bearer token when an issuer is set.
        callers=subject_policy(settings, verify_tokens=True),
        sampling=settings.sampling(),
    )
