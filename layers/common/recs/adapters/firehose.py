"""Firehose event sink (EventSink port).

Lines of newline-delimited JSON are packed into records of up to `record_target_bytes`
(Firehose bills ingestion in 5 KB steps per record, so one small event per record would be
billed as 5 KB), records into PutRecordBatch calls within the service limits (500 records and
4 MiB per call, 1,000 KiB per record), and records that come back failed (`FailedPutCount`) or
calls that fail outright are retried with exponential backoff and full jitter within a time
budget. Whatever is still undelivered then raises `DeliveryError` (never a silent return), so
the caller answers 503 and the client sends the request again; a retried request may store some
events twice, which is harmless because training counts each `eventId` once.

Firehose concatenates records as they are, so the lake holds exactly the lines given, one JSON
object per line, however they were packed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from recs.errors import DeliveryError

_log = logging.getLogger(__name__)

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 4 * 1024 * 1024
MAX_BYTES_PER_RECORD = 1000 * 1024
#: Firehose rounds each record up to the next 5 KB for billing.
DEFAULT_RECORD_TARGET_BYTES = 5000
#: Errors that no retry can fix: give up at once.
_PERMANENT_ERRORS = frozenset(
    {"ResourceNotFoundException", "InvalidArgumentException", "AccessDeniedException", "ValidationException"}
)


def pack_lines(lines: Sequence[bytes], target_bytes: int = DEFAULT_RECORD_TARGET_BYTES) -> list[bytes]:
    """Concatenate consecutive NDJSON lines into records of at most `target_bytes`.

    A line longer than `target_bytes` becomes a record of its own; every line must end in a
    newline, so record boundaries never merge two JSON objects.

    Parameters
    ----------
    lines
        Newline-terminated JSON lines.
    target_bytes
        Preferred maximum record size (at most `MAX_BYTES_PER_RECORD`).

    Returns
    -------
    list of bytes
        Records whose concatenation equals the concatenation of `lines`.
    """
    if not 0 < target_bytes <= MAX_BYTES_PER_RECORD:
        raise ValueError(f"target_bytes must be in 1..{MAX_BYTES_PER_RECORD}")
    records: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if not line.endswith(b"\n"):
            raise ValueError("every line must end in a newline")
        if current and size + len(line) > target_bytes:
            records.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        records.append(b"".join(current))
    return records


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
    """Deliver NDJSON lines to a Firehose stream, or raise `DeliveryError`.

    Parameters
    ----------
    stream_name
        The delivery stream.
    client
        A boto3 Firehose client; give it no retries of its own (``max_attempts=1``) so that
        this class's budget bounds the time spent.
    max_attempts
        Calls per chunk, first one included.
    budget_seconds
        Time after which no further retry starts (keep it well under the function timeout).
    record_target_bytes
        Lines are packed into records of about this size.
    """

    def __init__(
        self,
        stream_name: str,
        client: Any,
        *,
        max_attempts: int = 5,
        base_delay: float = 0.05,
        max_delay: float = 1.0,
        budget_seconds: float = 5.0,
        record_target_bytes: int = DEFAULT_RECORD_TARGET_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.stream_name = stream_name
        self._client = client
        self._max_attempts = max_attempts
        self._base = base_delay
        self._cap = max_delay
        self._budget = budget_seconds
        self._target = record_target_bytes
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._faults: tuple[type[Exception], ...] = (BotoCoreError, ClientError, ConnectionError)
        self._client_error = ClientError
        #: Records sent again after a failure (a metric for the caller).
        self.retried_records = 0

    def put_records(self, records: Sequence[bytes]) -> None:
        """Deliver every line of `records` (newline-terminated) or raise `DeliveryError`."""
        deadline = self._monotonic() + self._budget
        undelivered = 0
        for chunk in chunk_records(pack_lines(records, self._target)):
            lost = self._put_chunk(chunk, deadline)
            undelivered += sum(record.count(b"\n") for record in lost)
        if undelivered:
            raise DeliveryError(f"{undelivered} events not delivered to {self.stream_name}", undelivered)

    def _put_chunk(self, chunk: list[bytes], deadline: float) -> list[bytes]:
        """The records of `chunk` still undelivered when attempts or time run out."""
        pending = chunk
        for attempt in range(self._max_attempts):
            try:
                response = self._client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": data} for data in pending]
                )
            except self._faults as exc:
                if self._permanent(exc):
                    _log.error("firehose %s refused the call: %s", self.stream_name, exc)
                    return pending
                _log.warning("firehose call failed (attempt %d): %s", attempt + 1, type(exc).__name__)
            else:
                if not response.get("FailedPutCount"):
                    return []
                pending = [
                    data
                    for data, result in zip(pending, response["RequestResponses"], strict=True)
                    if result.get("ErrorCode")
                ]
                _log.warning("firehose failed %d records (attempt %d)", len(pending), attempt + 1)
            if attempt + 1 == self._max_attempts:
                break
            delay = self._rng.uniform(0, min(self._cap, self._base * 2**attempt))
            if self._monotonic() + delay > deadline:
                break
            self.retried_records += len(pending)
            self._sleep(delay)
        return pending

    def _permanent(self, error: Exception) -> bool:
        if isinstance(error, self._client_error):
            code = str(error.response.get("Error", {}).get("Code", ""))
            return code in _PERMANENT_ERRORS
        return False
