"""The Redis cache adapter against real redis-servers: standalone and cluster mode, and dead ones."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from recs.adapters.redis_cache import RedisCache
from recs_tools.local.redis_server import RedisServer, free_port, redis_binary

KEYS = [f"recs:v1:SIM#sku_{n:05d}" for n in range(20)]  # spread over many hash slots


@pytest.fixture
def cluster_server() -> Iterator[str]:
    """A one-node redis-server in cluster mode owning every slot (what ElastiCache Serverless is)."""
    binary = redis_binary()
    assert binary is not None
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="recs-redis-cluster-"))
    process = subprocess.Popen(
        [
            binary,
            *("--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            *("--cluster-enabled", "yes", "--cluster-config-file", str(workdir / "nodes.conf")),
            # The bus port defaults to port + 10000, which does not exist for a high free port.
            *("--cluster-port", str(free_port())),
            *("--dir", str(workdir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.execute_command("CLUSTER ADDSLOTSRANGE", 0, 16383)  # type: ignore[no-untyped-call]
                break
            except (redis.ConnectionError, OSError):  # not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        while client.execute_command("CLUSTER INFO")["cluster_state"] != "ok":  # type: ignore[no-untyped-call]
            if time.monotonic() > deadline:
                raise TimeoutError("the one-node cluster did not become ok")
            time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def _cache(url: str) -> RedisCache:
    return RedisCache(url, connect_timeout_ms=200, read_timeout_ms=200)


def test_values_round_trip_with_their_own_lifetimes(redis_server: RedisServer) -> None:
    # Given a cache on a standalone server
    cache = _cache(redis_server.url)
    # When values with different lifetimes are written in one call and read back in one
    cache.set_many_ttl({"a": (b"1", 60), "b": (b"2", 3600)})
    values = cache.get_many(["a", "missing", "b"])
    # Then each came back, and each key has its own TTL
    assert values == [b"1", None, b"2"]
    assert cache.mode == "standalone"
    raw = redis.Redis.from_url(redis_server.url)
    assert 0 < raw.ttl("a") <= 60 < raw.ttl("b") <= 3600


def test_cluster_mode_is_detected_and_multi_slot_reads_work(cluster_server: str) -> None:
    # Given a cache on a cluster-mode server and keys in many hash slots
    cache = _cache(cluster_server)
    # When they are written, read in one call and deleted
    cache.set_many_ttl({key: (key.encode(), 60) for key in KEYS})
    values = cache.get_many([*KEYS, "recs:absent"])
    deleted = cache.delete(KEYS[:5])
    # Then the cluster client was chosen and nothing failed (a plain MGET would be CROSSSLOT)
    assert cache.mode == "cluster"
    assert values == [key.encode() for key in KEYS] + [None]
    assert deleted == 5
    assert cache.errors == 0
    assert cache.delete_pattern("recs:v1:SIM#*") == 15


def test_a_dead_server_is_a_miss_and_is_skipped_during_the_cool_down() -> None:
    # Given a cache pointing where nothing listens
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", connect_timeout_ms=50, read_timeout_ms=50)
    # When it is read three times in a row
    results = [cache.get_many(["a", "b"]) for _ in range(3)]
    cache.set_many_ttl({"a": (b"1", 60)})
    # Then every read is a miss, and only the first attempt reached the network
    assert results == [[None, None]] * 3
    assert cache.errors == 1
    assert not cache.available


def _connections_received(url: str) -> int:
    probe = redis.Redis.from_url(url)
    try:
        return int(probe.info("stats")["total_connections_received"])
    finally:
        probe.close()


def test_a_server_that_stops_answering_costs_one_read_timeout_and_no_retry(redis_server: RedisServer) -> None:
    # Given a warm cache whose server then freezes (SIGSTOP: connected, but silent)
    cache = _cache(redis_server.url)
    cache.set_many_ttl({"a": (b"1", 60)})
    before = _connections_received(redis_server.url)
    redis_server.process.send_signal(19)
    try:
        # When it is read
        value = cache.get_many(["a"])
    finally:
        redis_server.process.send_signal(18)
    # Then the read gave up at its read timeout (a miss) instead of waiting, and the fault counted
    assert value == [None]
    assert cache.errors == 1
    # and it was not retried on a new connection (the only new connection is this check's own)
    assert _connections_received(redis_server.url) == before + 1
