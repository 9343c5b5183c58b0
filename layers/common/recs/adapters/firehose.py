"""Firehose event sink (EventSink port): PutRecordBatch within the service limits, retrying
records that come back failed with exponential backoff and full jitter, and raising
`DeliveryError` (never returning) when records are still undelivered, so the caller can answer
503 instead of a 200 that lost events."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from typing import Any

from recs.errors import DeliveryError

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1000 * 1024


def chunk_records(records: Sequence[bytes]) -> Iterator[list[bytes]]:
    """Split records into PutRecordBatch calls of at most 500 records and 4 MiB."""
    chunk: list[bytes] = []
    size = 0
    for record in records:
        if len(record) > MAX_BYTES_PER_RECORD:
            raise ValueError(f"record of {len(record)} bytes exceeds Firehose's 1,000 KiB limit")
        if chunk and (len(chunk) == MAX_RECORDS_PER_CALL or size + len(record) > MAX_BYTES_PER_CALL):
            yield chunk
            chunk, size = [], 0
        chunk.append(record)
        size += len(record)
    if chunk:
        yield chunk


class FirehoseSink:
    def __init__(
        self,
        stream_name: str,
        client: Any,
        *,
        max_attempts: int = 6,
        base_delay: float = 0.05,
        max_delay: float = 1.0,
        sleep: Any = time.sleep,
    ) -> None:
        self.stream_name = stream_name
        self._client = client
        self._max_attempts = max_attempts
        self._base = base_delay
        self._cap = max_delay
        self._sleep = sleep
        self.retried_records = 0

    def put_records(self, records: Sequence[bytes]) -> None:
        undelivered = 0
        for chunk in chunk_records(records):
            undelivered += self._put_chunk(chunk)
        if undelivered:
            raise DeliveryError(f"{undelivered} records not delivered to {self.stream_name}", undelivered)

    def _put_chunk(self, chunk: list[bytes]) -> int:
        pending = chunk
        for attempt in range(self._max_attempts):
            try:
                response = self._client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": data} for data in pending]
                )
            except Exception:
                # Whole-call failure (service unavailable after botocore's own retries): retry it.
                failed = pending
            else:
                if not response.get("FailedPutCount"):
                    return 0
                failed = [
                    data
                    for data, result in zip(pending, response["RequestResponses"], strict=True)
                    if result.get("ErrorCode")
                ]
            self.retried_records += len(failed)
            pending = failed
            if attempt + 1 < self._max_attempts:
                self._sleep(random.uniform(0, min(self._cap, self._base * 2**attempt)))
        return len(pending)
