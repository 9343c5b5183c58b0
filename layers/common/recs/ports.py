"""Ports: what the domain needs from the outside world.

Adapters in `recs.adapters` implement them with boto3 and redis; tests and the local stack use
the same adapters against moto and a real redis-server. The domain never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Cache(Protocol):
    """A best-effort key/value cache. Every method swallows its own faults (and reports them):
    a dead cache must degrade to a miss, never to an error."""

    @property
    def enabled(self) -> bool: ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None: ...

    def delete(self, keys: Sequence[str]) -> int: ...

    def delete_pattern(self, pattern: str) -> int: ...


class KeyValueTable(Protocol):
    """A DynamoDB-style table of items addressed by (pk, sk)."""

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]: ...

    def put(self, item: Mapping[str, Any]) -> None: ...

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int: ...

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> int: ...

    def query(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]: ...

    def scan_keys(self) -> Iterator[tuple[str, str]]: ...


class EventSink(Protocol):
    """Where accepted events go (Firehose in AWS)."""

    def put_records(self, records: Sequence[bytes]) -> None:
        """Deliver every record or raise `DeliveryError` naming how many were not delivered."""
        ...


class ObjectStore(Protocol):
    """An S3-style object store (the event lake, the model artifacts)."""

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def delete(self, keys: Sequence[str]) -> int: ...


class SizedObjects(Protocol):
    """An object store that lists sizes with the keys (S3's ListObjectsV2 returns both)."""

    def list_sizes(self, prefix: str) -> Iterator[tuple[str, int]]: ...


class ExportObjects(ObjectStore, Protocol):
    """The export bucket: an object store that can also say whether an object is there and hand
    out a short-lived download link to it (`recs.adapters.s3.S3ExportStore`)."""

    def exists(self, key: str) -> bool: ...

    def download_url(self, key: str, expires_in_seconds: int) -> str:
        """A URL anyone holding it may GET the object with, for `expires_in_seconds`."""
        ...


class ExportLauncher(Protocol):
    """Starts the export of a receipt without waiting for it (an asynchronous Lambda invocation)."""

    def launch(self, receipt_id: str) -> None:
        """Raise `StoreUnavailableError` when the export could not be started."""
        ...


class LeaseStore(Protocol):
    """Named, expiring leases: at most one holder of a name until its lease lapses."""

    def acquire(self, name: str, holder: str, now: float, expires_at: float) -> str | None:
        """Take `name` (or extend it when `holder` has it already): None when taken, else the
        holder that still has it."""
        ...

    def release(self, name: str, holder: str) -> bool:
        """Give `name` back if `holder` has it; False when someone else does (or nobody)."""
        ...


class SecretSource(Protocol):
    def get_secret(self, secret_id: str) -> bytes: ...


class PrivacyRecords(Protocol):
    """The privacy state a training run and the erasure purge read: opt-outs and erasure tombstones
    (`recs.adapters.dynamodb_privacy`)."""

    def opted_out_and_tombstones(self) -> tuple[set[str], set[str]]:
        """(pseudonyms of users who opted out, tombstones of erased pseudonyms)."""
        ...


class VersionedRows(Protocol):
    """The state table as the session signal needs it. Faults raise `StoreUnavailableError`."""

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """Strongly consistent reads, in the order of `keys` (None where absent)."""
        ...

    def put_many_if_version(
        self, rows: Sequence[Mapping[str, Any]], attribute: str, expected: Sequence[int]
    ) -> list[bool]:
        """Write each row only if its `attribute` still equals `expected` (0: absent); True if written."""
        ...


class ReadableTable(Protocol):
    """The reads serving needs; faults surface as `StoreUnavailableError`."""

    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]: ...


class ServingCache(Protocol):
    """The cache as serving uses it: never raises, counts its faults."""

    @property
    def enabled(self) -> bool: ...

    @property
    def errors(self) -> int: ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    def set_many_ttl(self, values: Mapping[str, tuple[bytes, int]]) -> None: ...


@dataclass(frozen=True)
class ImportProgress:
    """Where a DynamoDB ImportTable stands: ``IN_PROGRESS``, ``COMPLETED``, ``FAILED``,
    ``CANCELLING`` or ``CANCELLED``; the items it imported so far; why it failed."""

    status: str
    imported: int
    failure: str = ""


class ListsTables(Protocol):
    """The per-version tables a large shop's users' lists are imported into (DynamoDB ImportTable
    from S3: `recs.adapters.dynamodb_import`). Faults raise `StoreUnavailableError`."""

    def import_file(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        """``rows`` as one import file (gzip DynamoDB JSON, one item per line)."""
        ...

    def start_import(self, table: str, prefix: str, token: str) -> str:
        """Create `table` (the model table's key schema) loaded with the files under `prefix` of
        the artifact bucket; returns the import's ARN. The same `token` starts it only once."""
        ...

    def progress(self, import_arn: str) -> ImportProgress: ...

    def warm(self, table: str, read_units_per_second: int) -> bool:
        """Ask for `table`'s warm throughput when it has less; True once it is active."""
        ...

    def delete(self, table: str) -> bool:
        """Delete `table`; False when it no longer exists."""
        ...

    def exists(self, table: str) -> bool: ...

    def rows(self, table: str) -> KeyValueTable:
        """`table`'s items (reads and deletes of users' rows)."""
        ...
