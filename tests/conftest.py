"""Fixtures: the local stack (moto from template.yaml + a real redis-server) and its HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from recs_tools.local.http import LocalApiServer
from recs_tools.local.redis_server import RedisServer, start_redis
from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW


@pytest.fixture(scope="session", autouse=True)
def pinned_clock() -> Iterator[None]:
    """Every test process runs on the tests' clock (tests/clock.py), threads and moto included.
    Pinned once per process, not per test: module-scoped stacks keep a clock that only moves on."""
    with time_machine.travel(PINNED_NOW, tick=True):
        yield


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    """A fresh local stack per test: its own moto state, its own redis-server."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as local:
        yield local


@pytest.fixture
def stack_without_cache() -> Iterator[LocalStack]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}, use_redis=False) as local:
        yield local


@pytest.fixture
def api(stack: LocalStack) -> Iterator[LocalApiServer]:
    server = LocalApiServer(stack, port=0).start()
    yield server
    server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()
