from __future__ import annotations

from typing import Any

import pytest

from recs.adapters.firehose import MAX_BYTES_PER_CALL, FirehoseSink, chunk_records
from recs.errors import DeliveryError


class FlakyFirehose:
    """Fails the first `failures` records of each call for `rounds` calls, then accepts all."""

    def __init__(self, failures: int, rounds: int, outage: bool = False) -> None:
        self.failures, self.rounds, self.outage = failures, rounds, outage
        self.calls: list[list[bytes]] = []
        self.delivered: list[bytes] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        data = [r["Data"] for r in Records]
        self.calls.append(data)
        if self.outage:
            raise ConnectionError("service unavailable")
        failing = self.failures if len(self.calls) <= self.rounds else 0
        responses = [
            {"ErrorCode": "ServiceUnavailableException"} if i < failing else {"RecordId": str(i)}
            for i in range(len(data))
        ]
        self.delivered.extend(d for i, d in enumerate(data) if i >= failing)
        return {"FailedPutCount": min(failing, len(data)), "RequestResponses": responses}


def test_chunks_respect_record_and_byte_limits() -> None:
    # Given 1,200 small records and 6 records of 900 KiB
    small = [b"x" * 10] * 1200
    large = [b"y" * (900 * 1024)] * 6
    # When they are chunked
    small_chunks, large_chunks = list(chunk_records(small)), list(chunk_records(large))
    # Then no call exceeds 500 records or 4 MiB, and nothing is lost
    assert [len(c) for c in small_chunks] == [500, 500, 200]
    assert all(sum(map(len, c)) <= MAX_BYTES_PER_CALL for c in large_chunks)
    assert sum(len(c) for c in large_chunks) == 6


def test_oversized_records_are_refused() -> None:
    # Given a record over Firehose's 1,000 KiB limit / Then chunking refuses it
    with pytest.raises(ValueError, match="1,000 KiB"):
        list(chunk_records([b"z" * (1001 * 1024)]))


def test_failed_records_are_retried_until_delivered() -> None:
    # Given a stream that rejects 3 records in each of its first two calls
    client = FlakyFirehose(failures=3, rounds=2)
    sink = FirehoseSink("s", client, sleep=lambda _: None)
    records = [f"r{i}".encode() for i in range(10)]
    # When records are put
    sink.put_records(records)
    # Then every record is delivered exactly once
    assert sorted(client.delivered) == sorted(records)
    assert sink.retried_records == 6


def test_persistent_outage_raises_instead_of_losing_events() -> None:
    # Given a stream that is down
    sink = FirehoseSink("s", FlakyFirehose(0, 0, outage=True), max_attempts=3, sleep=lambda _: None)
    # When records are put / Then the caller learns how many were not delivered
    with pytest.raises(DeliveryError) as raised:
        sink.put_records([b"a", b"b"])
    assert raised.value.undelivered == 2
