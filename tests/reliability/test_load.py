"""A short, bounded load run on the local API of a trained stack: the error rate with the cache
up, and with the cache's redis-server killed in the middle of the run (error counts only; the
latency figures come from `make reliability`, never asserted here)."""

from __future__ import annotations

import redis

from bench.reliability.load import LoadPlan, query_mix, run_load
from bench.reliability.world import TrainedWorld

REQUESTS = 400


def test_with_the_cache_up_fewer_than_one_request_in_a_thousand_fails(world: TrainedWorld) -> None:
    # Given a trained stack with its cache up, and a seeded mix of storefront queries
    queries = query_mix(world.user_ids(), world.product_ids(), REQUESTS, seed=8)
    # When they are sent from four client threads
    report = run_load(world.api.url, queries, LoadPlan(requests=REQUESTS, concurrency=4, max_seconds=120))
    # Then every request was sent and the error rate is under 0.1% (so here: none)
    assert report.sent == REQUESTS
    assert report.error_rate < 0.001, report.as_dict()
    assert report.statuses[200] == REQUESTS
    assert {"user", "similar"} <= set(report.sources)


def test_with_the_cache_killed_mid_run_fewer_than_one_request_in_a_hundred_fails(world: TrainedWorld) -> None:
    # Given a trained stack whose cache is serving reads
    assert world.stack.redis is not None
    cache = redis.Redis.from_url(world.stack.redis.url)
    queries = query_mix(world.user_ids(), world.product_ids(), REQUESTS, seed=9)
    hits_before_kill: list[int] = []

    def kill_cache() -> None:
        assert world.stack.redis is not None
        hits_before_kill.append(int(cache.info("stats")["keyspace_hits"]))
        world.stack.redis.process.kill()  # SIGKILL: a crash, not a clean shutdown
        world.stack.redis.process.wait(timeout=10)

    # When the redis-server is killed halfway through the run
    plan = LoadPlan(requests=REQUESTS, concurrency=4, max_seconds=120, event_at=0.5, event=kill_cache)
    report = run_load(world.api.url, queries, plan)
    # Then the cache really served before, really died, and the requests after it were still answered
    assert hits_before_kill
    assert hits_before_kill[0] > 0
    assert world.stack.redis.process.poll() is not None
    assert report.event_done_at == REQUESTS // 2
    # (every request after the kill's own one was sent once the redis-server was dead)
    assert sum(report.after_event.values()) == REQUESTS - REQUESTS // 2 - 1
    assert report.sent == REQUESTS
    assert report.error_rate < 0.01, report.as_dict()
