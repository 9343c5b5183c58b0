"""Reading what training published: cache first, DynamoDB on a miss (and refill), and the
current-version pointer held in memory for a short time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from recs.ports import Cache, KeyValueTable
from recs.storage import (
    CATALOG_PK,
    POINTER_KEY,
    cache_key,
    decode_items,
    optout_cache_key,
    preference_key,
    session_key,
    version_sk,
)

Items = list[tuple[str, float, str | None]]


@dataclass(frozen=True)
class Pointer:
    version: str
    generated_at: str


@dataclass
class ReadStats:
    cache_hits: int = 0
    cache_misses: int = 0
    store_reads: int = 0


class ListRepository:
    def __init__(
        self,
        model_table: KeyValueTable,
        state_table: KeyValueTable,
        cache: Cache,
        *,
        pointer_ttl_seconds: float,
        cache_ttl_seconds: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._models = model_table
        self._state = state_table
        self._cache = cache
        self._pointer_ttl = pointer_ttl_seconds
        self._cache_ttl = cache_ttl_seconds
        self._monotonic = monotonic
        self._pointer: Pointer | None = None
        self._pointer_at = float("-inf")
        self._catalog: tuple[str, dict[str, str]] | None = None

    def current(self) -> Pointer | None:
        now = self._monotonic()
        if self._pointer is None or now - self._pointer_at > self._pointer_ttl:
            row = self._models.get(*POINTER_KEY)
            self._pointer = Pointer(row["modelVersion"], row["generatedAt"]) if row else None
            self._pointer_at = now
        return self._pointer

    def lists(self, version: str, pks: Sequence[str], stats: ReadStats) -> dict[str, Items]:
        """Ranked lists by partition key for one version; absent keys are left out."""
        unique = list(dict.fromkeys(pks))
        if not unique:
            return {}
        found: dict[str, Items] = {}
        cached = (
            self._cache.get_many([cache_key(version, pk) for pk in unique]) if self._cache.enabled else []
        )
        missing = []
        for index, pk in enumerate(unique):
            value = cached[index] if cached else None
            if value is not None:
                stats.cache_hits += 1
                if value != b"-":
                    found[pk] = decode_items(value)
            else:
                stats.cache_misses += 1
                missing.append(pk)
        if missing:
            stats.store_reads += 1
            rows = self._models.get_many([(pk, version_sk(version)) for pk in missing])
            refill: dict[str, bytes] = {}
            for pk, row in zip(missing, rows, strict=True):
                if row is not None:
                    found[pk] = decode_items(row["d"])
                    refill[cache_key(version, pk)] = str(row["d"]).encode()
                else:
                    # Negative caching: an absent list is looked up once per TTL, not per request.
                    refill[cache_key(version, pk)] = b"-"
            self._cache.set_many(refill, self._cache_ttl)
        return found

    def catalog(self, version: str) -> dict[str, str]:
        """product -> category of the version (held in memory per version)."""
        if self._catalog is None or self._catalog[0] != version:
            row = self._models.get(CATALOG_PK, version_sk(version))
            self._catalog = (version, json.loads(row["d"]) if row else {})
        return self._catalog[1]

    def opted_out(self, user_pseudonym: str) -> bool:
        """The preference, cached as b"1" (opted out) / b"0"; privacy writes through on change."""
        key = optout_cache_key(user_pseudonym)
        flag = self._cache.get_many([key])[0] if self._cache.enabled else None
        if flag is not None:
            return flag == b"1"
        row = self._state.get(*preference_key(user_pseudonym))
        opted_out = bool(row and row.get("recommendations") is False)
        self._cache.set_many({key: b"1" if opted_out else b"0"}, self._cache_ttl)
        return opted_out

    def recent_products(self, visitor_pseudonym: str) -> list[dict[str, Any]]:
        row = self._state.get(*session_key(visitor_pseudonym))
        if not row:
            return []
        return [{"productId": p, "eventType": t, "timestamp": ts} for p, t, ts in json.loads(row["d"])]
