"""In-memory stand-ins for the ingest ports (unit tests only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from recs.auth.policy import SubjectPolicy
from recs.errors import DeliveryError, StoreUnavailableError
from recs.ingest.service import IngestService
from recs.ingest.validation import TimeWindow
from recs.pseudonyms import Pseudonymizer

#: The pseudonym key of the unit tests' ingest services.
TEST_KEY = b"unit-test-pseudonym-key-0123456789"


class MemoryRows:
    """`VersionedRows` over a dict, with DynamoDB's conditional-write semantics.

    `before_write` runs before each conditional write (to simulate a concurrent writer);
    `fail` makes every call raise StoreUnavailableError (a throttled table).
    """

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.before_write: Callable[[Mapping[str, Any]], None] | None = None
        self.fail = False
        self.writes = 0
        self.reads = 0

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        if self.fail:
            raise StoreUnavailableError("throttled")
        self.reads += 1
        return [dict(self.items[key]) if key in self.items else None for key in keys]

    def put_many_if_version(
        self, rows: Sequence[Mapping[str, Any]], attribute: str, expected: Sequence[int]
    ) -> list[bool]:
        if self.fail:
            raise StoreUnavailableError("throttled")
        outcomes = []
        for row, version in zip(rows, expected, strict=True):
            if self.before_write is not None:
                self.before_write(row)
            key = (str(row["pk"]), str(row["sk"]))
            current = self.items.get(key, {}).get(attribute, 0)
            if int(current) != version:
                outcomes.append(False)
                continue
            self.items[key] = dict(row)
            self.writes += 1
            outcomes.append(True)
        return outcomes


class RecordingCache:
    """A Cache port that records deletions."""

    enabled = True

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [None] * len(keys)

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        return None

    def delete(self, keys: Sequence[str]) -> int:
        self.deleted.extend(keys)
        return len(keys)

    def delete_pattern(self, pattern: str) -> int:
        return 0


class MemorySink:
    """An EventSink that keeps the lines, or fails like an unavailable Firehose."""

    def __init__(self, fail: bool = False) -> None:
        self.lines: list[bytes] = []
        self.fail = fail

    def put_records(self, records: Sequence[bytes]) -> None:
        if self.fail:
            raise DeliveryError("stream unavailable", len(records))
        self.lines.extend(records)


def lake_only_service(sink: MemorySink, now: datetime, callers: SubjectPolicy | None = None) -> IngestService:
    """An ingest service with no session signal, a 90-day window and the clock stopped at `now`."""
    return IngestService(
        sink,
        Pseudonymizer(TEST_KEY),
        None,
        window=TimeWindow(max_age=timedelta(days=90), max_future=timedelta(minutes=5)),
        max_body_bytes=1_000_000,
        clock=lambda: now,
        callers=callers,
    )
