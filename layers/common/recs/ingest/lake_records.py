"""What a valid `ShopEvent` becomes in the lake, and its newline-delimited JSON encoding.

This is the ingest hot path (tens of thousands of events per second per core), so records are
plain dicts (`LakeRecord`) serialized by pydantic-core in one call each, rather than a
`LakeEvent` model built and dumped per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

from pydantic import TypeAdapter

from recs.contracts.events import LAKE_SCHEMA_VERSION, LakeRecord, ShopEvent
from recs.ingest.scrub import scrub_text
from recs.pseudonyms import Pseudonyms

_LAKE_RECORD = TypeAdapter(LakeRecord)


def to_lake_records(
    events: Sequence[ShopEvent], pseudonyms: Pseudonyms, received_at: datetime
) -> list[LakeRecord]:
    """Pseudonymize ids, scrub free text and stamp the arrival time of each event.

    Unknown fields never got into a `ShopEvent`, so only the schema's fields remain.

    Parameters
    ----------
    events
        Validated events.
    pseudonyms
        Keyed-hash pseudonymizer; the same raw id always maps to the same pseudonym.
    received_at
        When the request was accepted (UTC).

    Returns
    -------
    list of LakeRecord
        One record per event, in the same order, absent fields left out.
    """
    user, anon, session = pseudonyms.user, pseudonyms.anon, pseudonyms.session
    received = received_at.astimezone(UTC)
    records: list[LakeRecord] = []
    append = records.append
    for event in events:
        # The model's field values without a model_dump() per event.
        record = cast(LakeRecord, {k: v for k, v in event.__dict__.items() if v is not None})
        # Lower case: one event re-sent with its id in another case is still one event.
        record["eventId"] = record["eventId"].lower()
        timestamp = record["timestamp"]
        if timestamp.utcoffset():
            record["timestamp"] = timestamp.astimezone(UTC)
        if "userId" in record:
            record["userId"] = user(record["userId"])
        if "anonId" in record:
            record["anonId"] = anon(record["anonId"])
        if "sessionId" in record:
            record["sessionId"] = session(record["sessionId"])
        if "category" in record:
            record["category"] = scrub_text(record["category"])
        if "context" in record:
            record["context"] = scrub_text(record["context"])
        if "query" in record:
            record["query"] = scrub_text(record["query"])
        record["receivedAt"] = received
        record["schemaVersion"] = LAKE_SCHEMA_VERSION
        append(record)
    return records


def encode_lines(records: Sequence[LakeRecord]) -> list[bytes]:
    """One compact JSON object per record, each ending in a newline (NDJSON)."""
    dump = _LAKE_RECORD.dump_json
    return [dump(record) + b"\n" for record in records]
