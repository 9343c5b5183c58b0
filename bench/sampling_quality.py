"""What sampling views costs in quality: ``recs train`` on a shop's events with one view in N kept
(each standing for N, as ingest stores them) against the same shop with every view.

    python -m bench --full --only sampling_quality    # N = 2, 4 and 10 on both shops
    python -m bench --quick --only sampling_quality   # N = 4 only
    python -m bench.sampling_quality [--quick]        # JSON to stdout

The shops are the product quality benchmark's two synthetic ones (``grocery-year`` and
``discovery-year``, seed 23; the only data sets here with views), split and scored exactly as
there (`bench.product_quality`): each known user's last session held out, ``recs train --events
FILE --out DIR`` with its defaults on the rest, the served homepage list (the user's list, then
popular) scored by NDCG@10 per test user. The sampled run gets the same training events with
views thinned the way ingest thins them (`recs.ingest.sampling.sampled`: the eventId decides,
kept views carry ``sampleRate: N``); the held-out sessions are the same. Each row compares the
sampled run with the full one on the same users (95% paired bootstrap): a "tie" is no
measurable loss; the note gives the share of the training events left.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import bench.baselines as bl
from bench.datasets import Dataset, session_holdout, synthetic
from bench.environment import benchmark_main, log
from bench.figures import Figure, goal_figure
from bench.product_quality import SEED, product_lists, run_product
from recs.contracts.events import EventType
from recs.ingest.sampling import SamplingRules, sampled

COMMAND = "python -m bench --only sampling_quality"
SHOPS = ("grocery-year", "discovery-year")


def thinned(dataset: Dataset, one_in: int) -> tuple[Dataset, dict[str, int]]:
    """The data set whose events file keeps one view in ``one_in``, stamped as ingest stamps it."""
    rules = SamplingRules({EventType.VIEW: one_in})
    counts = {"written": 0, "kept": 0}

    def write(path: Path, keep: Any) -> int:
        with tempfile.TemporaryDirectory(prefix="sampling-") as scratch:
            full = Path(scratch) / "full.jsonl"
            counts["written"] = dataset.write_events(full, keep)
            records = [json.loads(line) for line in full.read_text(encoding="utf-8").splitlines() if line]
        kept = sampled(records, rules)
        path.write_text("".join(json.dumps(record) + "\n" for record in kept), encoding="utf-8")
        counts["kept"] = len(kept)
        return len(kept)

    return replace(dataset, name=f"{dataset.name}-views-1-in-{one_in}", write_events=write), counts


def measure_shop(preset: str, rates: Sequence[int]) -> dict[str, Any]:
    dataset = synthetic(preset, SEED)
    table = dataset.table
    test = session_holdout(table, np.ones(len(table), dtype=np.bool_), grocery=preset.startswith("grocery"))
    data = bl.training_data(table, test.train)
    users = [table.users[u] for u in test.users.tolist()]

    def ndcg(run_on: Dataset) -> tuple[np.ndarray[Any, Any], float]:
        began = time.perf_counter()
        run = run_product(run_on, test.train, users)
        ranked, _ = product_lists(run, table, test, data, exclude_seen=not dataset.repeats)
        return bl.ranking_metrics(ranked, test.relevant)["ndcg"], time.perf_counter() - began

    full, full_seconds = ndcg(dataset)
    rows: dict[str, Any] = {"full": {"ndcg": float(full.mean()), "seconds": round(full_seconds, 1)}}
    per_user: dict[str, Any] = {"full": full}
    for one_in in rates:
        sampled_set, counts = thinned(dataset, one_in)
        scores, seconds = ndcg(sampled_set)
        per_user[str(one_in)] = scores
        rows[str(one_in)] = {
            "ndcg": float(scores.mean()),
            "eventsKept": counts["kept"],
            "eventsWithEveryView": counts["written"],
            "seconds": round(seconds, 1),
        }
        log(f"  {preset}, views 1 in {one_in}: NDCG@10 {scores.mean():.4f} vs {full.mean():.4f}")
    return {"testUsers": len(users), "runs": rows, "_perUser": per_user}


def run(quick: bool) -> dict[str, Any]:
    rates = [4] if quick else [2, 4, 10]
    results = {preset: measure_shop(preset, rates) for preset in SHOPS}
    figures: list[Figure] = []
    for preset, result in results.items():
        per_user = result.pop("_perUser")
        for one_in in rates:
            row = result["runs"][str(one_in)]
            share = row["eventsKept"] / max(row["eventsWithEveryView"], 1)
            figures.append(
                goal_figure(
                    "Sampling",
                    f"{preset}: NDCG@10 with one view in {one_in} kept",
                    per_user[str(one_in)],
                    per_user["full"],
                    baseline="every view kept (same users, same run)",
                    goal="no loss (tie or better)",
                    seed=SEED,
                    note=f"{share:.0%} of the training events kept",
                )
            )
    return {
        "command": COMMAND,
        "seeds": {"synthetic": SEED, "bootstrap": SEED},
        "figures": figures,
        "rates": rates,
        "shops": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help="one in 4 only")


if __name__ == "__main__":
    raise SystemExit(main())
