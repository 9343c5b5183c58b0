"""The Firehose sink: within the service limits, every line delivered exactly once, or a loud failure."""

from __future__ import annotations

import random
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from recs.adapters.firehose import (
    MAX_BYTES_PER_CALL,
    MAX_RECORDS_PER_CALL,
    FirehoseSink,
    chunk_records,
    pack_lines,
)
from recs.errors import DeliveryError


def _lines(n: int, size: int = 40) -> list[bytes]:
    return [f'{{"n":{i:06d},"pad":"{"x" * (size - 22)}"}}\n'.encode() for i in range(n)]


class FakeFirehose:
    """Accepts records like Firehose, failing a seeded random share of them for the first
    `failing_calls` calls, or raising `error` on every call."""

    def __init__(
        self, *, failure_rate: float = 0.0, failing_calls: int = 0, error: Exception | None = None
    ) -> None:
        self.failure_rate, self.failing_calls, self.error = failure_rate, failing_calls, error
        self.rng = random.Random(7)
        self.calls: list[list[bytes]] = []
        self.delivered: list[bytes] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        data = [r["Data"] for r in Records]
        assert len(data) <= MAX_RECORDS_PER_CALL
        assert sum(map(len, data)) <= MAX_BYTES_PER_CALL
        self.calls.append(data)
        if self.error is not None:
            raise self.error
        failing = len(self.calls) <= self.failing_calls
        responses = []
        for record in data:
            if failing and self.rng.random() < self.failure_rate:
                responses.append({"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"})
            else:
                self.delivered.append(record)
                responses.append({"RecordId": "r"})
        failed = sum(1 for r in responses if "ErrorCode" in r)
        return {"FailedPutCount": failed, "RequestResponses": responses}

    def delivered_lines(self) -> list[bytes]:
        return [line + b"\n" for record in self.delivered for line in record.split(b"\n") if line]


def _sink(client: FakeFirehose, **kwargs: Any) -> FirehoseSink:
    kwargs.setdefault("sleep", lambda _: None)
    return FirehoseSink("stream", client, rng=random.Random(1), **kwargs)


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


def test_lines_are_packed_into_records_without_splitting_any() -> None:
    # Given 500 lines of 300 bytes and one of 7,000
    lines = _lines(250, 300) + _lines(1, 7000) + _lines(250, 300)
    # When packed into records of at most 5,000 bytes
    records = pack_lines(lines, 5000)
    # Then the records hold the same bytes in the same order, none over the target unless one line is
    assert b"".join(records) == b"".join(lines)
    assert all(len(r) <= 5000 or r.count(b"\n") == 1 for r in records)
    assert len(records) < len(lines) / 10


def test_packing_refuses_a_line_without_its_newline() -> None:
    # Given a line that does not end in a newline / Then packing refuses it (it would merge two events)
    with pytest.raises(ValueError, match="newline"):
        pack_lines([b'{"a":1}'])


def test_failed_records_are_retried_until_each_line_is_delivered_once() -> None:
    # Given a stream that fails about 30% of the records of its first three calls
    client = FakeFirehose(failure_rate=0.3, failing_calls=3)
    lines = _lines(3000, 100)
    # When 3,000 lines are put
    _sink(client, max_attempts=6).put_records(lines)
    # Then every line arrived exactly once
    assert sorted(client.delivered_lines()) == sorted(lines)
    assert len(client.calls) > 3


def test_a_persistent_outage_raises_with_the_number_of_undelivered_events() -> None:
    # Given a stream that cannot be reached
    client = FakeFirehose(error=EndpointConnectionError(endpoint_url="https://firehose"))
    # When 1,000 lines are put / Then the caller learns that all 1,000 events were not delivered
    with pytest.raises(DeliveryError) as raised:
        _sink(client, max_attempts=3).put_records(_lines(1000))
    assert raised.value.undelivered == 1000
    # And each chunk was tried max_attempts times
    assert len(client.calls) == 3 * len(list(chunk_records(pack_lines(_lines(1000)))))


def test_records_still_failing_after_the_last_attempt_are_counted_as_events() -> None:
    # Given a stream that fails every record of every call
    client = FakeFirehose(failure_rate=1.0, failing_calls=10**6)
    # When 20 lines are put / Then the error counts 20 undelivered events (not packed records)
    with pytest.raises(DeliveryError) as raised:
        _sink(client, max_attempts=2).put_records(_lines(20))
    assert raised.value.undelivered == 20


def test_a_permanent_error_is_not_retried() -> None:
    # Given a stream that does not exist
    error = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "PutRecordBatch")
    client = FakeFirehose(error=error)
    # When lines are put / Then it fails after one call
    with pytest.raises(DeliveryError):
        _sink(client, max_attempts=5).put_records(_lines(3))
    assert len(client.calls) == 1


def test_a_throttled_call_is_retried() -> None:
    # Given a stream that throttles its first call
    class Throttled(FakeFirehose):
        def put_record_batch(
            self, DeliveryStreamName: str, Records: list[dict[str, bytes]]
        ) -> dict[str, Any]:
            if not self.calls:
                self.calls.append([])
                raise ClientError(
                    {"Error": {"Code": "ServiceUnavailableException", "Message": "slow"}}, "PutRecordBatch"
                )
            return super().put_record_batch(DeliveryStreamName, Records)

    client = Throttled()
    # When lines are put / Then they are delivered on the retry
    _sink(client).put_records(_lines(5))
    assert sorted(client.delivered_lines()) == sorted(_lines(5))


def test_backoff_grows_with_full_jitter_and_stops_at_the_budget() -> None:
    # Given a stream that is down, a fake clock and a 1-second budget
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    client = FakeFirehose(error=EndpointConnectionError(endpoint_url="https://firehose"))
    sink = FirehoseSink(
        "stream",
        client,
        max_attempts=50,
        base_delay=0.05,
        max_delay=0.4,
        budget_seconds=1.0,
        sleep=sleep,
        monotonic=lambda: now[0],
        rng=random.Random(3),
    )
    # When a line is put
    with pytest.raises(DeliveryError):
        sink.put_records(_lines(1))
    # Then each pause is drawn from [0, min(cap, base * 2^attempt)] and no retry starts after the budget
    assert all(0 <= s <= min(0.4, 0.05 * 2**i) for i, s in enumerate(sleeps))
    assert sum(sleeps) <= 1.0
    assert len(client.calls) < 50
