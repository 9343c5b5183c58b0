"""How many users' lists change from one day's run to the next: the rows a delta publish writes.

    python -m bench --full --only publish_changes    # The Complete Journey (all) and discovery-year
    python -m bench --quick --only publish_changes   # 600 households and discovery-year
    python -m bench.publish_changes [--quick]        # JSON to stdout

Each data set goes through the product's path twice: ``recs train --events FILE --out DIR`` with
its defaults (the parameter search included) on the events up to the start of the last day, then
on every event (one more day). A user's list counts as changed when the products in order or
their reasons differ (`recs.training.publish.changes.row_hash`: what a delta compares; scores
are left out), as new when the first run had no list for them, and as emptied when the second
has none. The written share is what a delta run writes instead of every list: changed + new +
emptied over the second run's lists. The cost model's "lists changed per run" rows
(docs/deploy.md) read it next to their assumed 50% and 20%.

The second day runs twice: searching its parameters again (from the defaults, as `recs train`
does; the workflow's search starts from the serving version's choice, so it lies in between),
and with the first run's chosen parameters, search off (only the data moved). Each is compared
at three depths: the top 10 and top 20 (what a page shows) and the whole stored list (what a
delta compares today).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import Dataset, complete_journey, synthetic
from bench.environment import benchmark_main, log
from bench.figures import Figure, figure
from bench.product_quality import recs_executable
from recs.store_layout import list_row, user_pk
from recs.training.publish.changes import row_hash

COMMAND = "python -m bench --only publish_changes"
SEED = 23
QUICK_HOUSEHOLDS = 600
DAY = 86_400.0


#: Depths compared: the top of a list (what a page shows) and the whole stored list.
DEPTHS = (10, 20, None)


def _train(
    dataset: Dataset, keep: np.ndarray[Any, Any], scratch: Path, name: str, params: Path | None = None
) -> tuple[dict[str, list[tuple[str, float, str]]], dict[str, Any]]:
    """``recs train`` on the kept events: each known user's list, and the parameters it chose."""
    events = scratch / f"{name}.jsonl"
    if not events.exists():
        written = dataset.write_events(events, keep)
        log(f"  {dataset.label}, {name}: {written:,} events")
    command = [recs_executable(), "train", "--events", str(events), "--out", str(scratch / name)]
    if params is not None:
        command += ["--params", str(params)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"recs train failed ({done.returncode}): {done.stderr[-2000:]}")
    lists: dict[str, list[tuple[str, float, str]]] = {}
    with (scratch / name / "recommendations.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            lists[record["userId"]] = [
                (p["id"], p["score"], p["reason"]) for p in record.get("products") or []
            ]
    chosen = json.loads((scratch / name / "evaluation.json").read_text(encoding="utf-8"))["parameters"]
    return lists, chosen


def _hashed(lists: dict[str, list[tuple[str, float, str]]], depth: int | None) -> dict[str, np.uint64]:
    return {u: row_hash(list_row(user_pk(u), "v", items[:depth], "", 0)) for u, items in lists.items()}


def _shares(
    before: dict[str, list[tuple[str, float, str]]], after: dict[str, list[tuple[str, float, str]]]
) -> dict[str, Any]:
    """Per depth: the lists a delta would write (changed, new, emptied) over the second run's."""
    shares: dict[str, Any] = {}
    for depth in DEPTHS:
        old, new = _hashed(before, depth), _hashed(after, depth)
        present = {u for u, h in new.items() if h}
        had = {u for u, h in old.items() if h}
        changed = sum(1 for u in present & had if new[u] != old[u])
        written = changed + len(present - had) + len(had - present)
        shares[f"top{depth}" if depth else "whole"] = {
            "lists": len(present),
            "changed": changed,
            "new": len(present - had),
            "emptied": len(had - present),
            "writtenShare": round(written / max(len(present), 1), 4),
        }
    return shares


def measure(dataset: Dataset) -> dict[str, Any]:
    stamps = dataset.table.timestamp
    cutoff = float(stamps.max()) - DAY
    everything = np.ones(stamps.size, dtype=np.bool_)
    with tempfile.TemporaryDirectory(prefix="publish-changes-") as scratch:
        work = Path(scratch)
        before, chosen = _train(dataset, stamps < cutoff, work, "day-1")
        searched, _ = _train(dataset, everything, work, "day")
        pinned_params = work / "chosen.json"
        pinned_params.write_text(json.dumps({**chosen, "auto_tune": False}), encoding="utf-8")
        pinned, _ = _train(dataset, everything, work, "day", pinned_params)
    result: dict[str, Any] = {
        "label": dataset.label,
        "newDayEvents": int((stamps >= cutoff).sum()),
        "events": int(stamps.size),
        "searchedAgain": _shares(before, searched),
        "sameParameters": _shares(before, pinned),
    }
    for case in ("searchedAgain", "sameParameters"):
        shares = ", ".join(f"{depth} {row['writtenShare']:.1%}" for depth, row in result[case].items())
        log(f"  {dataset.label}, {case}: lists a delta writes: {shares}")
    return result


def run(quick: bool) -> dict[str, Any]:
    datasets = [
        complete_journey(QUICK_HOUSEHOLDS if quick else None, SEED),
        synthetic("discovery-year", SEED),
    ]
    results = {d.name: measure(d) for d in datasets}
    figures: list[Figure] = []
    for r in results.values():
        for case, label in (
            ("sameParameters", "the first run's parameters"),
            ("searchedAgain", "searched again"),
        ):
            for depth, row in r[case].items():
                figures.append(
                    figure(
                        "Publishing",
                        f"{r['label']}, {label}: lists a delta writes, comparing the {depth}",
                        row["writtenShare"],
                        "share",
                        note=f"{row['changed']:,} changed, {row['new']:,} new, {row['emptied']:,} emptied of "
                        f"{row['lists']:,}; {r['newDayEvents']:,} new events of {r['events']:,}",
                    )
                )
    return {
        "command": COMMAND,
        "seeds": {"completeJourneySample": SEED, "synthetic": SEED},
        "figures": figures,
        "datasets": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help=f"{QUICK_HOUSEHOLDS} households and discovery-year")


if __name__ == "__main__":
    raise SystemExit(main())
