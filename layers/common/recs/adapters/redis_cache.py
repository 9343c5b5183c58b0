"""Redis cache adapter (Cache port), and the null cache used when no cache is configured.

Faults never escape: a cache error is a miss. Timeouts are explicit and retries bounded (one
quick retry on a dropped connection) because redis-py's defaults make a dead server cost
seconds. After a failure the cache is skipped for a short cool-down (a tiny circuit breaker), so
a dead cache costs one timeout every few seconds, not one per request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)


class NullCache:
    """The cache when none is configured: always a miss, never an error."""

    enabled = False

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [None] * len(keys)

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        return None

    def delete(self, keys: Sequence[str]) -> int:
        return 0

    def delete_pattern(self, pattern: str) -> int:
        return 0


class RedisCache:
    """A best-effort cache on redis-py with explicit timeouts and a circuit breaker."""

    enabled = True

    def __init__(
        self,
        url: str,
        *,
        connect_timeout_ms: int,
        read_timeout_ms: int,
        cooldown_seconds: float = 5.0,
        on_error: Callable[[str, Exception], None] | None = None,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=connect_timeout_ms / 1000,
            socket_timeout=read_timeout_ms / 1000,
            retry=Retry(NoBackoff(), retries=1),
            retry_on_timeout=False,
            health_check_interval=30,
            single_connection_client=False,
        )
        self._cooldown = cooldown_seconds
        self._open_until = 0.0
        self._on_error = on_error
        self.errors = 0

    def _guard(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        now = time.monotonic()
        if now < self._open_until:
            return fallback
        try:
            return call()
        except Exception as exc:  # any fault of the cache must degrade to a miss
            self.errors += 1
            self._open_until = now + self._cooldown
            _log.warning("cache %s failed: %s", operation, type(exc).__name__)
            if self._on_error:
                self._on_error(operation, exc)
            return fallback

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        result: list[Any] = self._guard("get", lambda: self._client.mget(list(keys)), [None] * len(keys))
        return result

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        if not values:
            return

        def write() -> None:
            pipe = self._client.pipeline(transaction=False)
            for key, value in values.items():
                pipe.set(key, value, ex=ttl_seconds)
            pipe.execute()

        self._guard("set", write, None)

    def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0
        deleted: int = self._guard("delete", lambda: int(self._client.delete(*keys)), 0)
        return deleted

    def delete_pattern(self, pattern: str) -> int:
        def scan_and_delete() -> int:
            count = 0
            batch: list[Any] = []
            for key in self._client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    count += int(self._client.delete(*batch))
                    batch = []
            if batch:
                count += int(self._client.delete(*batch))
            return count

        deleted: int = self._guard("delete_pattern", scan_and_delete, 0)
        return deleted

    def close(self) -> None:
        self._client.close()


def make_cache(
    url: str,
    *,
    connect_timeout_ms: int,
    read_timeout_ms: int,
    on_error: Callable[[str, Exception], None] | None = None,
) -> RedisCache | NullCache:
    """The configured cache: Redis when a URL is set, otherwise the null cache."""
    if not url:
        return NullCache()
    return RedisCache(
        url, connect_timeout_ms=connect_timeout_ms, read_timeout_ms=read_timeout_ms, on_error=on_error
    )
