"""A bounded load test of GET /api/recommendations on the local API (loopback only).

A fixed number of requests (seeded mix of signed-in, anonymous, product-page and cart queries)
from a few client threads, each with its own keep-alive httpx client, bounded also by a time
limit. Optionally something happens to the stack once a given share of the requests is done
(e.g. the cache's redis-server is killed). Reports requests/s, p50/p95/p99 and the error rate:
a 5xx or a request that got no answer is an error; latency is reported, never asserted.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.figures import percentiles_ms

PATH = "/api/recommendations"


@dataclass(frozen=True)
class LoadPlan:
    requests: int
    concurrency: int = 4
    max_seconds: float = 120.0
    seed: int = 8
    event_at: float | None = None  # share of the requests after which `event` runs
    event: Callable[[], None] | None = None


@dataclass
class LoadReport:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    after_event: Counter[int] = field(default_factory=Counter)
    wall_seconds: float = 0.0
    event_done_at: int | None = None
    stopped_by_time: bool = False
    sources: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return self.transport_errors + sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def error_rate(self) -> float:
        return self.errors / self.sent if self.sent else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.sent,
            "wallSeconds": round(self.wall_seconds, 3),
            "requestsPerSecond": round(self.sent / self.wall_seconds, 1) if self.wall_seconds else None,
            "latency": percentiles_ms(self.latencies) if self.latencies else None,
            "errors": self.errors,
            "errorRate": round(self.error_rate, 6),
            "transportErrors": self.transport_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "statusesAfterEvent": {str(k): v for k, v in sorted(self.after_event.items())},
            "eventAfterRequests": self.event_done_at,
            "stoppedByTimeLimit": self.stopped_by_time,
            "sources": dict(self.sources.most_common()),
        }


def query_mix(users: list[str], products: list[str], n: int, seed: int) -> list[dict[str, str]]:
    """`n` queries as a storefront sends them: mostly signed-in homepages, then anonymous
    visitors, product pages and carts."""
    rng = random.Random(seed)  # the same requests in the same order on every run
    queries: list[dict[str, str]] = []
    for _ in range(n):
        roll = rng.random()
        limit = str(rng.choice((5, 10, 20)))
        if roll < 0.5:
            queries.append({"userId": rng.choice(users), "limit": limit})
        elif roll < 0.7:
            queries.append({"anonId": f"anon_{rng.randrange(10_000):05d}", "limit": limit})
        elif roll < 0.9:
            who = {"userId": rng.choice(users)} if rng.random() < 0.5 else {}
            queries.append(
                {**who, "context": "product-page", "productId": rng.choice(products), "limit": limit}
            )
        else:
            cart = ",".join(rng.sample(products, k=min(3, len(products))))
            queries.append(
                {"anonId": f"anon_{rng.randrange(10_000):05d}", "context": "cart", "cartProductIds": cart}
            )
    return queries


def run_load(base_url: str, queries: list[dict[str, str]], plan: LoadPlan) -> LoadReport:
    report = LoadReport()
    lock = threading.Lock()
    next_index = [0]
    event_index = (
        int(len(queries) * plan.event_at) if plan.event is not None and plan.event_at is not None else None
    )
    deadline = time.monotonic() + plan.max_seconds
    # Requests after the event's index wait for it to finish, so "after the event" means it.
    event_finished = threading.Event()
    if event_index is None:
        event_finished.set()

    def take() -> int | None:
        with lock:
            index = next_index[0]
            if index >= len(queries):
                return None
            if time.monotonic() > deadline:
                report.stopped_by_time = True
                return None
            next_index[0] += 1
        if index == event_index and plan.event is not None:
            try:
                plan.event()
            finally:
                with lock:
                    report.event_done_at = index
                event_finished.set()
        elif event_index is not None and index > event_index:
            event_finished.wait()
        return index

    def worker() -> None:
        with httpx.Client(base_url=base_url, timeout=10.0) as client:
            while (index := take()) is not None:
                started = time.perf_counter()
                try:
                    response = client.get(PATH, params=queries[index])
                except httpx.HTTPError:
                    with lock:
                        report.sent += 1
                        report.transport_errors += 1
                    continue
                elapsed = time.perf_counter() - started
                source = str(response.json().get("source") or "") if response.status_code == 200 else ""
                with lock:
                    report.sent += 1
                    report.statuses[response.status_code] += 1
                    report.latencies.append(elapsed)
                    if source:
                        report.sources[source] += 1
                    if report.event_done_at is not None and index > report.event_done_at:
                        report.after_event[response.status_code] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, name=f"load-{i}") for i in range(plan.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report.wall_seconds = time.perf_counter() - started
    return report
