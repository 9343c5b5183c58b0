"""Offline event files (recs_tools.training.event_files): a lake object reads as its records."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recs import lake_format
from recs_tools.training.event_files import read_events

RECORDS = [
    {
        "eventId": "00000000-0000-4000-8000-000000000001",
        "eventType": "view",
        "timestamp": "2026-11-06T06:33:36.202000Z",
        "productId": "sku_1",
        "userId": "u_1",
        "receivedAt": "2026-11-06T06:33:37Z",
        "schemaVersion": 1,
    },
    {
        "eventId": "00000000-0000-4000-8000-000000000002",
        "eventType": "purchase",
        "timestamp": "2026-11-06T06:34:00Z",
        "productId": "sku_2",
        "quantity": 2,
        "anonId": "a_1",
        "receivedAt": "2026-11-06T06:34:01Z",
        "schemaVersion": 1,
    },
]


def test_a_lake_parquet_object_reads_as_the_records_ingest_wrote(tmp_path: Path) -> None:
    # Given a Parquet object copied from the lake (lower-case columns, as Firehose writes them)
    path = tmp_path / "delivery.parquet"
    path.write_bytes(lake_format.encode_records(RECORDS))
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    # When it is read as an events file
    read = list(read_events(path))
    # Then each row carries the record's field names and values (absent fields as None), exactly
    # the JSONL file of the same records but for those None values
    assert [{k: v for k, v in r.items() if v is not None} for r in read] == list(read_events(jsonl))
    assert set(read[0]) == set(lake_format.RECORD_FIELDS)


def test_an_events_file_with_its_own_casing_keeps_it(tmp_path: Path) -> None:
    # Given a Parquet events file whose columns are already the record's names
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({"eventId": ["e1"], "userId": ["u"], "productId": ["p"]}), path)
    # Then it reads as it is
    assert list(read_events(path)) == [{"eventId": "e1", "userId": "u", "productId": "p"}]
