"""Ingest throughput: events validated, scrubbed, pseudonymized and serialized per second per core.

    python -m bench --quick --only ingest_throughput     # 3 runs
    python -m bench --full --only ingest_throughput      # 9 runs
    python -m bench.ingest_throughput [--quick]          # the same, JSON to stdout

Requests are the synthetic demo shop's events (seed 42, ~42,000 events; 1% carry PII, 1% are
re-sent) as JSON bodies of 500 events, exactly as the frontend posts them. Each run builds a
fresh `IngestService` (cold pseudonym and scrub memos, like a new Lambda container) and pushes
every body through `ingest()`: request checks, JSON parsing, pydantic validation, time window,
pseudonymization, scrubbing and NDJSON serialization. The sink only keeps the bytes and the
session signal is off, so no I/O is measured. One thread: CPU seconds of this process are
seconds of one core.

The baseline, measured in the same run on the same bodies, is the floor of any ingest: only
``json.loads`` of each body and ``json.dumps`` of each event to an NDJSON line, no checks.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.environment import benchmark_main
from bench.figures import figure
from recs.ingest.payload import IngestRequest
from recs.ingest.scrub import scrub_text
from recs.ingest.service import IngestService
from recs.ingest.validation import TimeWindow
from recs.pseudonyms import Pseudonymizer
from recs_tools.synthetic import build_config, generate_shop, iter_batches

BATCH = 500
GOAL_EVENTS_PER_SECOND = 50_000
COMMAND = "python -m bench --only ingest_throughput"
_KEY = b"benchmark-pseudonym-key-0123456789abcdef"


class _CountingSink:
    """Keeps only the number of lines and bytes: no I/O in the measurement."""

    def __init__(self) -> None:
        self.lines = 0
        self.bytes = 0

    def put_records(self, records: Sequence[bytes]) -> None:
        self.lines += len(records)
        self.bytes += sum(map(len, records))


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


#: The synthetic shop's "now", pinned so that every run (here, and the lakes of the Prepare and
#: training benchmarks built from these requests) reads the same events.
SHOP_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _requests(preset: str) -> tuple[list[IngestRequest], int, datetime]:
    now = SHOP_NOW
    shop = generate_shop(build_config(preset, seed=42, now=now, pii_fraction=0.01, duplicate_fraction=0.01))
    bodies = [
        IngestRequest(content_type="application/json", body=json.dumps({"events": batch}).encode())
        for batch in iter_batches(shop.events, size=BATCH)
    ]
    return bodies, len(shop.events), now


def _floor_run(requests: list[IngestRequest]) -> float:
    """CPU seconds to only parse every body and serialize its events as NDJSON lines."""
    cpu = time.process_time()
    for request in requests:
        events = json.loads(request.body)["events"]
        lines = [json.dumps(event, separators=(",", ":")).encode() + b"\n" for event in events]
        del lines
    return time.process_time() - cpu


def _one_run(requests: list[IngestRequest], now: datetime) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, lines written) of one pass over every request."""
    scrub_text.cache_clear()
    sink = _CountingSink()
    service = IngestService(
        sink,
        Pseudonymizer(_KEY),
        None,
        window=TimeWindow(max_age=timedelta(days=90), max_future=timedelta(minutes=5)),
        max_body_bytes=1_048_576,
        clock=lambda: now,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    for request in requests:
        service.ingest(request)
    return time.perf_counter() - wall, time.process_time() - cpu, sink.lines


def run(quick: bool) -> dict[str, Any]:
    """Measure ingest throughput; medians over repeated runs, with the JSON floor alongside.

    Parameters
    ----------
    quick
        3 runs instead of 9 (the same ~42,000 events of the demo shop).

    Returns
    -------
    dict
        ``figures`` (events/s per core against the JSON floor and the goal), every run, the
        workload.
    """
    preset, runs = "demo", 3 if quick else 9
    _log(f"ingest throughput: generating the '{preset}' shop...")
    requests, n_events, now = _requests(preset)
    _log(f"{n_events} events in {len(requests)} requests of up to {BATCH}; warming up")
    _one_run(requests[:2], now)
    _floor_run(requests[:2])
    results = []
    for i in range(runs):
        # Floor and service alternate, so background load on a shared machine hits both alike.
        floor_cpu = _floor_run(requests)
        wall, cpu, lines = _one_run(requests, now)
        if lines != n_events:
            raise RuntimeError(f"run {i}: {lines} lines written for {n_events} events")
        results.append(
            {
                "wallSeconds": round(wall, 4),
                "cpuSeconds": round(cpu, 4),
                "floorCpuSeconds": round(floor_cpu, 4),
            }
        )
        _log(f"run {i + 1}/{runs}: {n_events / cpu:,.0f} events/s per core ({wall:.2f} s wall)")
    per_core = statistics.median(n_events / r["cpuSeconds"] for r in results)
    floor = statistics.median(n_events / r["floorCpuSeconds"] for r in results)
    wall_rate = statistics.median(n_events / r["wallSeconds"] for r in results)
    area = "Ingest"
    figures = [
        figure(
            area,
            "ingest() throughput, 500-event batches (median of runs, CPU time)",
            per_core,
            "events/s per core",
            baseline="json.loads + json.dumps only (the floor)",
            baseline_value=floor,
            goal=f">= {GOAL_EVENTS_PER_SECOND:,} events/s per core",
            met=per_core >= GOAL_EVENTS_PER_SECOND,
            digits=0,
        ),
        figure(
            area,
            "time per event",
            1e6 / per_core,
            "µs",
            baseline="the floor",
            baseline_value=1e6 / floor,
            digits=2,
        ),
        figure(area, "ingest() throughput, wall clock (one thread)", wall_rate, "events/s", digits=0),
    ]
    return {
        "command": COMMAND,
        "seeds": {"shop": 42},
        "figures": figures,
        "workload": {
            "preset": preset,
            "events": n_events,
            "requests": len(requests),
            "batchSize": BATCH,
            "meanBodyBytes": round(statistics.mean(len(r.body) for r in requests)),
            "runs": runs,
        },
        "eventsPerSecondPerCore": round(per_core),
        "floorEventsPerSecondPerCore": round(floor),
        "eventsPerSecondWallClock": round(wall_rate),
        "runs": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, lambda quick: run(quick=quick), argv, quick_help="3 runs instead of 9")


if __name__ == "__main__":
    raise SystemExit(main())
