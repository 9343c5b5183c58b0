"""Redis cache adapter (Cache port), and the null cache used when no cache is configured.

Faults never escape: a cache error is a miss. Timeouts are explicit and retries bounded (one
quick retry on a dropped connection) because redis-py's defaults make a dead server cost
seconds. After a failure the cache is skipped for a short cool-down (a tiny circuit breaker), so
a dead cache costs one timeout every few seconds, not one per request.

Standalone servers (the local redis-server, node-based caches with cluster mode disabled) and
cluster-mode caches (ElastiCache Serverless only runs in cluster mode) are both supported: the
first command asks the server (CLUSTER INFO, one round trip per container) and picks the
client. In cluster mode a multi-key read is split by hash slot and pipelined, which through
ElastiCache Serverless's single endpoint is still one network round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)
Mode = Literal["auto", "standalone", "cluster"]


class NullCache:
    """The cache when none is configured: always a miss, never an error."""

    enabled = False
    errors = 0

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [None] * len(keys)

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        return None

    def set_many_ttl(self, values: Mapping[str, tuple[bytes, int]]) -> None:
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
        mode: Mode = "auto",
        on_error: Callable[[str, Exception], None] | None = None,
    ) -> None:
        # Imported here, not on first use: the first request should not pay for it.
        import redis

        self._redis: Any = redis
        self._url = url
        self._options: dict[str, Any] = {
            "socket_connect_timeout": connect_timeout_ms / 1000,
            "socket_timeout": read_timeout_ms / 1000,
        }
        self._mode: Mode = mode
        self._client: Any = None
        self._cooldown = cooldown_seconds
        self._open_until = 0.0
        self._on_error = on_error
        self.errors = 0

    # -- connection ------------------------------------------------------------------------------
    def _connect(self) -> Any:
        """The client, created on first use (so a cold start opens no connection)."""
        if self._client is None:
            redis = self._redis
            # One connection held by the client instead of a pool checkout and return around every
            # command: about 20 us less per round trip (docs/serving.md, Performance). Lambda runs
            # one request at a time; the client's lock serialises the local server's threads.
            standalone = redis.Redis.from_url(
                self._url,
                retry=self._retry(),
                retry_on_timeout=False,
                health_check_interval=30,
                single_connection_client=True,
                **self._options,
            )
            mode = self._mode if self._mode != "auto" else _detect_mode(standalone)
            if mode == "cluster":
                standalone.close()
                self._client = redis.RedisCluster.from_url(
                    self._url,
                    retry=self._retry(),
                    require_full_coverage=False,
                    **self._options,
                )
            else:
                self._client = standalone
            self._mode = mode
        return self._client

    def _retry(self) -> Any:
        """One immediate retry on a dropped connection (a new connection usually works), none on
        a timeout (a slow server gets no second request; the breaker opens instead)."""
        redis = self._redis
        return redis.retry.Retry(
            redis.backoff.NoBackoff(), retries=1, supported_errors=(redis.exceptions.ConnectionError,)
        )

    @property
    def mode(self) -> Mode:
        return self._mode

    def _guard(self, operation: str, call: Callable[[Any], T], fallback: T) -> T:
        now = time.monotonic()
        if now < self._open_until:
            return fallback
        try:
            return call(self._connect())
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

    # -- commands --------------------------------------------------------------------------------
    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []

        def read(client: Any) -> list[bytes | None]:
            if self._mode == "cluster":
                return list(client.mget_nonatomic(list(keys)))
            return list(client.mget(list(keys)))

        return self._guard("get", read, [None] * len(keys))

    def set_many(self, values: Mapping[str, bytes], ttl_seconds: int) -> None:
        self.set_many_ttl({key: (value, ttl_seconds) for key, value in values.items()})

    def set_many_ttl(self, values: Mapping[str, tuple[bytes, int]]) -> None:
        """Write values with their own lifetimes in one pipelined round trip."""
        if not values:
            return

        def write(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            for key, (value, ttl_seconds) in values.items():
                pipe.set(key, value, ex=ttl_seconds)
            pipe.execute()

        self._guard("set", write, None)

    def delete(self, keys: Sequence[str]) -> int:
        if not keys:
            return 0

        def remove(client: Any) -> int:
            if self._mode == "cluster":
                # Cross-slot DEL is refused in cluster mode: one DEL per key, pipelined.
                pipe = client.pipeline(transaction=False)
                for key in keys:
                    pipe.delete(key)
                return sum(int(n) for n in pipe.execute())
            return int(client.delete(*keys))

        deleted: int = self._guard("delete", remove, 0)
        return deleted

    def delete_pattern(self, pattern: str) -> int:
        def scan_and_delete(client: Any) -> int:
            count = 0
            batch: list[str] = []
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key.decode() if isinstance(key, bytes) else str(key))
                if len(batch) >= 500:
                    count += self.delete(batch)
                    batch = []
            return count + self.delete(batch)

        deleted: int = self._guard("delete_pattern", scan_and_delete, 0)
        return deleted

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _detect_mode(client: Any) -> Mode:
    """cluster when the server runs in cluster mode; standalone servers refuse CLUSTER INFO."""
    from redis.exceptions import ResponseError

    try:
        info = client.execute_command("CLUSTER INFO")
    except ResponseError:
        return "standalone"
    text = info.decode() if isinstance(info, bytes) else str(info)
    return "cluster" if "cluster_state" in text else "standalone"


def make_cache(
    url: str,
    *,
    connect_timeout_ms: int,
    read_timeout_ms: int,
    mode: Mode = "auto",
    on_error: Callable[[str, Exception], None] | None = None,
) -> RedisCache | NullCache:
    """The configured cache: Redis when a URL is set, otherwise the null cache."""
    if not url:
        return NullCache()
    return RedisCache(
        url,
        connect_timeout_ms=connect_timeout_ms,
        read_timeout_ms=read_timeout_ms,
        mode=mode,
        on_error=on_error,
    )
