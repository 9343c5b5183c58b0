"""``python -m bench.reliability [--quick]``: the reliability figures, from the local stack.

Full run (``make reliability``): ``bench/results/reliability.json`` and ``docs/reliability.md``.
Quick run: the same under ``build/reliability/`` so the committed figures stay as measured.
"""

from __future__ import annotations

import argparse
import json
import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import redis

from bench.environment import REPO_ROOT, describe_machine, load_average, log, quiet_known_warnings
from bench.reliability import lake
from bench.reliability.fuzz import fuzz
from bench.reliability.load import LoadPlan, query_mix, run_load
from bench.reliability.report import render
from bench.reliability.world import TrainedWorld, trained_world

SIZES = {
    "quick": {"fuzzExamples": 40, "loadRequests": 2_000, "lakeEvents": 5_000},
    "full": {"fuzzExamples": 300, "loadRequests": 20_000, "lakeEvents": 20_000},
}
CONCURRENCY = 4
LOAD_SECONDS_LIMIT = 600.0


def _load(world: TrainedWorld, requests: int, seed: int, fault: str | None) -> dict[str, Any]:
    """One load run; `fault` ("kill" or "freeze") happens to the redis-server halfway through."""
    assert world.stack.redis is not None
    server = world.stack.redis
    cache = redis.Redis.from_url(server.url)
    noted: dict[str, Any] = {}

    def kill() -> None:
        noted["cacheHitsBeforeFault"] = int(cache.info("stats")["keyspace_hits"])
        server.process.kill()
        server.process.wait(timeout=10)

    def freeze() -> None:
        noted["cacheHitsBeforeFault"] = int(cache.info("stats")["keyspace_hits"])
        server.process.send_signal(signal.SIGSTOP)

    events: dict[str, Callable[[], None]] = {"kill": kill, "freeze": freeze}
    plan = LoadPlan(
        requests=requests,
        concurrency=CONCURRENCY,
        max_seconds=LOAD_SECONDS_LIMIT,
        seed=seed,
        event_at=0.5 if fault else None,
        event=events[fault] if fault else None,
    )
    queries = query_mix(world.user_ids(), world.product_ids(), requests, seed=seed)
    try:
        report = run_load(world.api.url, queries, plan)
    finally:
        if fault == "freeze":
            server.process.send_signal(signal.SIGCONT)
    return {"fault": fault or "none", "concurrency": CONCURRENCY, "seed": seed, **noted, **report.as_dict()}


def run(quick: bool) -> dict[str, Any]:
    sizes = SIZES["quick" if quick else "full"]
    started = time.perf_counter()
    result: dict[str, Any] = {
        "measuredAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "make reliability" if not quick else "python -m bench.reliability --quick",
        "sizes": sizes,
        "loadAverageAtStart": load_average(),
    }
    log("fuzzing the API from docs/openapi.json")
    with trained_world() as world:
        result["fuzz"] = fuzz(world.api.url, max_examples=sizes["fuzzExamples"]).as_dict()
    load_runs = []
    for fault, seed in ((None, 8), ("kill", 9), ("freeze", 10)):
        log(f"load run, cache fault: {fault or 'none'}")
        with trained_world() as world:
            load_runs.append(_load(world, sizes["loadRequests"], seed, fault))
    result["load"] = load_runs
    log("events sent vs records in the lake under Firehose faults")
    result["lake"] = lake.measure(sizes["lakeEvents"])
    result["loadAverageAtEnd"] = load_average()
    result["wallSeconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = describe_machine()
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, written under build/")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the doc from the results file, measuring nothing"
    )
    args = parser.parse_args(argv)
    quiet_known_warnings()
    if args.quick:
        out_dir = REPO_ROOT / "build" / "reliability"
        results, doc = out_dir / "reliability.json", out_dir / "reliability.md"
    else:
        results, doc = (
            REPO_ROOT / "bench" / "results" / "reliability.json",
            REPO_ROOT / "docs" / "reliability.md",
        )
    if args.render_only:
        result = json.loads(results.read_text(encoding="utf-8"))
    else:
        result = run(args.quick)
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    doc.write_text(render(result, results.relative_to(REPO_ROOT)), encoding="utf-8")
    log(f"wrote {doc}" if args.render_only else f"wrote {results} and {doc}")


if __name__ == "__main__":
    main()
