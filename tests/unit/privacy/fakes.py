"""In-memory stand-ins for the ports the privacy code uses (unit tests only)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from recs.errors import StoreUnavailableError
from recs.pseudonyms import Pseudonymizer

PSEUDONYMS = Pseudonymizer(b"unit-test-pseudonym-key-0123456789")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


class MemoryTable:
    """A `KeyValueTable` over a dict; `fail_on` names methods that raise like a throttled table."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_on: set[str] = set()

    def _check(self, method: str) -> None:
        if method in self.fail_on:
            raise StoreUnavailableError(f"{method}: throttled")

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        self._check("get")
        item = self.items.get((pk, sk))
        return dict(item) if item else None

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        self._check("get_many")
        return [dict(self.items[key]) if key in self.items else None for key in keys]

    def put(self, item: Mapping[str, Any]) -> None:
        self._check("put")
        self.items[(str(item["pk"]), str(item["sk"]))] = dict(item)

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        self._check("put_many")
        count = 0
        for item in items:
            self.items[(str(item["pk"]), str(item["sk"]))] = dict(item)
            count += 1
        return count

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> int:
        self._check("delete_many")
        keys = list(dict.fromkeys(keys))
        for key in keys:
            self.items.pop(key, None)
        return len(keys)

    def query(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        self._check("query")
        return [
            dict(item)
            for (p, s), item in sorted(self.items.items())
            if p == pk and (sk_prefix is None or s.startswith(sk_prefix))
        ]

    def scan_keys(self) -> Iterator[tuple[str, str]]:
        yield from list(self.items)


class MemoryCache:
    """A cache with the Redis adapter's contract: faults are swallowed and counted."""

    enabled = True

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.errors = 0
        self.down = False

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if self.down:
            self.errors += 1
            return [None] * len(keys)
        return [self.values.get(key) for key in keys]

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        if self.down:
            self.errors += 1
            return
        self.values.update(values)

    def delete(self, keys: Sequence[str]) -> int:
        if self.down:
            self.errors += 1
            return 0
        return sum(self.values.pop(key, None) is not None for key in keys)

    def delete_pattern(self, pattern: str) -> int:
        if self.down:
            self.errors += 1
            return 0
        return self.delete([key for key in list(self.values) if fnmatch.fnmatchcase(key, pattern)])
