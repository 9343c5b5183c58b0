"""Reading the lake: day prefixes, Parquet, gzip and plain objects, order kept while prefetching."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from recs import lake_format
from recs.training.prepare import lake
from recs.training.prepare.lake import day_prefixes, read_window


class MemoryStore:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        return self.objects[key]

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def delete(self, keys: Sequence[str]) -> int:
        return sum(self.objects.pop(k, None) is not None for k in keys)


def _ndjson(*ids: int) -> bytes:
    return b"".join(json.dumps({"n": i}).encode() + b"\n" for i in ids)


def test_the_window_reads_each_arrival_day_in_key_order_gzip_or_not() -> None:
    # Given objects on three days (one gzip), and one day outside the window
    store = MemoryStore(
        {
            "events/2026/10/30/23/a": _ndjson(1, 2),
            "events/2026/10/31/00/a": gzip.compress(_ndjson(3)),
            "events/2026/10/31/05/b": _ndjson(4) + b"\n",
            "events/2026/11/01/00/a": _ndjson(5),
            "events/2026/11/02/00/a": _ndjson(6),
        }
    )
    start, end = datetime(2026, 10, 30, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)
    # When the window is read with a small prefetch
    records = [r["n"] for r in read_window(store, "events/", start, end, prefetch=2)]
    # Then every record of those days comes back, in key order
    assert records == [1, 2, 3, 4, 5]
    assert day_prefixes("events/", start, end)[-1] == "events/2026/11/01/"


def test_decoding_in_batches_keeps_every_record_and_still_fails_on_a_corrupt_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an object of more lines than one decoding batch, with blank lines in it
    monkeypatch.setattr(lake, "DECODE_BATCH", 3)
    data = _ndjson(1, 2) + b"\n  \n" + _ndjson(3, 4, 5, 6, 7)
    # When it is decoded / Then every record comes back once, in order
    assert [r["n"] for r in lake.decode_object(data)] == [1, 2, 3, 4, 5, 6, 7]
    # And a line holding two records is as corrupt as before, not two records
    with pytest.raises(json.JSONDecodeError):
        list(lake.decode_object(_ndjson(1) + b'{"n": 2}, {"n": 3}\n'))


def test_the_window_reads_a_lake_mixing_parquet_and_ndjson_in_key_order() -> None:
    # Given a day whose first objects are NDJSON and whose later ones are Parquet (Firehose's
    # record format conversion turned on during the day)
    def record(n: int, **extra: object) -> dict[str, object]:
        return {"eventId": f"e{n}", "eventType": "view", "timestamp": "2026-10-31T00:00:00Z", **extra}

    store = MemoryStore(
        {
            "events/2026/10/31/00/a": gzip.compress(
                b"".join(json.dumps(record(n)).encode() + b"\n" for n in (1, 2))
            ),
            "events/2026/10/31/09/b": lake_format.encode_records([record(3, quantity=2), record(4)]),
            "events/2026/10/31/10/c": lake_format.encode_records([]),
            "events/2026/10/31/11/d": lake_format.encode_records([record(5, results=["p"])]),
        }
    )
    day = datetime(2026, 10, 31, tzinfo=UTC)
    # When the window is read
    records = list(read_window(store, "events/", day, day, prefetch=2))
    # Then every record of both formats comes back in key order, as ingest wrote it
    assert records == [record(1), record(2), record(3, quantity=2), record(4), record(5, results=["p"])]
