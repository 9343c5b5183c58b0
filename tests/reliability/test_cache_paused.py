"""The cache slow rather than dead: the real redis-server frozen with SIGSTOP (connections stay
open, nothing answers) in the middle of a bounded load run, then resumed."""

from __future__ import annotations

import re
import signal

import httpx
import pytest

from bench.reliability.load import LoadPlan, query_mix, run_load
from bench.reliability.world import TrainedWorld

REQUESTS = 300


def _cache_errors(stdout: str) -> float:
    """The CacheErrors the recommend function reported in its EMF lines (read with a pattern:
    lines printed by concurrent requests may interleave)."""
    return sum(float(value) for value in re.findall(r'"CacheErrors":\s*\[?\s*([0-9.]+)', stdout))


def test_a_frozen_cache_is_served_around_from_dynamodb_without_errors(
    world: TrainedWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a trained stack whose cache serves reads
    assert world.stack.redis is not None
    process = world.stack.redis.process
    queries = query_mix(world.user_ids(), world.product_ids(), REQUESTS, seed=10)

    def freeze() -> None:
        process.send_signal(signal.SIGSTOP)

    # When the redis-server is frozen a third of the way through the run
    plan = LoadPlan(requests=REQUESTS, concurrency=4, max_seconds=120, event_at=1 / 3, event=freeze)
    try:
        report = run_load(world.api.url, queries, plan)
        # Then every request after the freeze was still answered 200 (read timeouts, then the
        # breaker skips the cache and DynamoDB serves), none failed
        assert report.event_done_at == REQUESTS // 3
        assert sum(report.after_event.values()) == REQUESTS - REQUESTS // 3 - 1
        assert set(report.after_event) == {200}
        assert report.errors == 0, report.as_dict()
        # and the cache really was frozen under them: its faults were counted
        assert _cache_errors(capfd.readouterr().out) >= 1
    finally:
        process.send_signal(signal.SIGCONT)
    # And once the server is resumed, the API still answers from the trained version
    response = httpx.get(world.api.url + "/api/recommendations", params={"anonId": "anon_1"}, timeout=30)
    assert response.status_code == 200
    assert response.json()["modelVersion"] == world.version
