"""The benchmarks `python -m bench` runs, in order, and the area each one reports on.

Each module exposes ``run(quick: bool) -> dict`` returning at least ``figures`` (see
`bench.figures`), ``command`` and ``seeds``; everything else it returns is kept in its
results file as detail.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RunFunction = Callable[[bool], dict[str, Any]]


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    area: str
    summary: str

    def load(self) -> RunFunction:
        """The module's ``run`` (imported only when the benchmark runs: some need extras)."""
        run: RunFunction = importlib.import_module(self.module).run
        return run

    def description(self) -> str:
        """How the benchmark measures: its module docstring without the command lines."""
        doc = importlib.import_module(self.module).__doc__ or ""
        paragraphs = doc.strip().split("\n\n")
        return "\n\n".join(p for p in paragraphs[1:] if not p.startswith("    "))


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "ingest_throughput",
        "bench.ingest_throughput",
        "Ingest",
        "events validated, scrubbed, pseudonymized and serialized per second per core",
    ),
    Benchmark(
        "serving",
        "bench.serving",
        "Serving",
        "GET /api/recommendations: cache hit, miss, local HTTP, cold import, against raw Redis/DynamoDB",
    ),
    Benchmark(
        "catalog_feed",
        "bench.catalog_feed",
        "Catalog feed",
        "an uploaded catalog export to serving's new view: availability, new arrivals and similar "
        "items by attributes, for a daily update, a new shop and large categories",
    ),
    Benchmark(
        "product_quality",
        "bench.product_quality",
        "Quality: the product's path",
        "recs train run as a shop runs it, on MovieLens 100K, The Complete Journey and two synthetic "
        "shops: what it would serve vs popularity, bought-most, item-kNN, EASE and implicit ALS",
    ),
    Benchmark(
        "sampling_quality",
        "bench.sampling_quality",
        "Sampling",
        "recs train on two synthetic shops with one view in N kept (each counted N times) vs every "
        "view: NDCG@10 of the served homepage list, paired per user",
    ),
    Benchmark(
        "publish_changes",
        "bench.publish_changes",
        "Publishing",
        "recs train on one day less and on every event (The Complete Journey, a synthetic shop): the "
        "share of users' lists a delta publish writes",
    ),
    Benchmark(
        "diversity",
        "bench.diversity",
        "Diversity",
        "the served homepage list with at most 1, 2, 3 or 5 products per category vs no cap: NDCG@10, "
        "intra-list diversity and catalog coverage on two synthetic shops and The Complete Journey",
    ),
    Benchmark(
        "poisoning",
        "bench.poisoning",
        "Poisoning",
        "fake visitors needed to push an unwanted product into the popular and trending top 10 and "
        "beside the most viewed product, before and after the defences against one client and many",
    ),
    Benchmark(
        "trending_quality",
        "bench.trending_quality",
        "Quality: trending",
        "recall@10 of the synthetic shops' own trending products in the trending list, before and after "
        "counting visitors against a prior scaled to the shop; the prior's share chosen on validation seeds",
    ),
    Benchmark(
        "spark_quality",
        "bench.spark_quality",
        "Spark engine",
        "the workflow's Spark branch (Prepare's aggregate, the job script on pyspark in local mode) vs "
        "the numpy ALS on MovieLens 100K and The Complete Journey: NDCG@10 on the same holdout",
    ),
    Benchmark(
        "als_quality",
        "bench.als_quality",
        "Quality: MovieLens 100K",
        "NDCG/recall/precision/coverage@10 of recs ALS and EASE vs popularity, EASE and implicit ALS",
    ),
    Benchmark(
        "session_quality",
        "bench.session_quality",
        "Quality: sessions (anonymous path)",
        "next-item HR/MRR@20 of the anonymous session path as served vs popularity, item-kNN and "
        "V-SKNN on two synthetic shops and MovieLens sessions; the session constants tuned on validation",
    ),
    Benchmark(
        "als_speed",
        "bench.als_speed",
        "Training speed",
        "seconds per ALS iteration vs implicit, top-K vs the bare multiply, peak memory of a fit",
    ),
    Benchmark(
        "prepare_speed",
        "bench.prepare_speed",
        "Prepare",
        "the columnar, incremental lake reader vs the record path it replaced: events per CPU second, "
        "peak memory per event, and a next run's time against the size of the new day",
    ),
    Benchmark(
        "training_scale",
        "bench.training_scale",
        "Training scale",
        "the training steps at growing sizes (time, memory, one Lambda's limit) and the state machine",
    ),
    Benchmark(
        "optimizations",
        "bench.optimizations",
        "Profile-driven changes",
        "each change made from the profiles, against its previous version in the same run",
    ),
    Benchmark(
        "profiles",
        "bench.profiles",
        "Profiles",
        "where the slowest stage of each path spends its time (cProfile)",
    ),
)


def by_name(names: list[str] | None) -> list[Benchmark]:
    """The registered benchmarks named (all when ``names`` is empty), in registry order."""
    if not names:
        return list(BENCHMARKS)
    known = {b.name for b in BENCHMARKS}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown benchmarks {unknown}; known: {sorted(known)}")
    return [b for b in BENCHMARKS if b.name in names]
