"""Where every run's parameter search starts: ``recs tune`` on data the quality benchmark never
tests on, recorded.

    python -m bench.tune_defaults            # make tune-defaults; about half an hour on 2 cores
    python -m bench.tune_defaults --quick    # fewer fits, a sample of households (a smoke run)

Every training run searches its family, hyperparameters and buy-again mix on its own validation
split (`recs.training.evaluate.search`); the defaults in `recs.training.parameters` are only where that
search starts (and what a run with ``AUTO_TUNE=false`` uses). They come from this command:
``recs tune`` (the product's own search with a larger budget) runs on

* the training part of MovieLens 100K (each user's first 80% of ratings by time: the quality
  benchmark tests on the last 20%),
* the training part of The Complete Journey (every basket but each household's last, which
  the benchmark tests on),
* the synthetic ``grocery-year`` and ``discovery-year`` shops with seed 7 (the benchmark's
  shops have seed 23),

and the starting point of each family is the geometric mean, snapped to the search's own steps,
of that family's best trial on each data set; the mix (buy-again weight and shape, exclusions)
starts where most data sets ended. A unit test (tests/unit/bench/test_tune_defaults.py) fails
when the committed defaults differ from the recorded proposal.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.datasets import (
    Dataset,
    complete_journey,
    last_basket_holdout,
    movielens,
    movielens_holdout,
    synthetic,
)
from bench.environment import REPO_ROOT, describe_machine, log
from bench.product_quality import recs_executable
from recs.training.evaluate.search import FAMILY_AXES, GEOMETRIC, MIX_AXES, STEPPED
from recs.training.parameters import TrainingParameters

RESULTS = REPO_ROOT / "bench" / "results" / "tune_defaults.json"
COMMAND = "python -m bench.tune_defaults"
FITS = 48
QUICK_FITS = 6


def _training_parts(quick: bool) -> list[tuple[Dataset, np.ndarray[Any, Any]]]:
    """Each tuning data set and the rows ``recs tune`` may read."""
    ml = movielens()
    everything = np.ones(len(ml.table), dtype=np.bool_)
    journey = complete_journey(600 if quick else None, seed=7)
    parts = [
        (ml, movielens_holdout(ml.table, everything).train),
        (journey, last_basket_holdout(journey.table, np.ones(len(journey.table), dtype=np.bool_)).train),
    ]
    for preset in ("grocery-year", "discovery-year"):
        shop = synthetic(preset, seed=7)
        parts.append((shop, np.ones(len(shop.table), dtype=np.bool_)))
    return parts


def tune_one(dataset: Dataset, rows: np.ndarray[Any, Any], fits: int) -> dict[str, Any]:
    """``recs tune --trials fits`` on the rows; its JSON result and how long it took."""
    with tempfile.TemporaryDirectory(prefix=f"tune-{dataset.name}-") as scratch:
        work = Path(scratch)
        written = dataset.write_events(work / "events.jsonl", rows)
        command = ["tune", "--events", str(work / "events.jsonl"), "--trials", str(fits)]
        command += ["--out", str(work / "tuned.json")]
        if dataset.catalog is not None:
            (work / "catalog.jsonl").write_text(
                "".join(json.dumps(p) + "\n" for p in dataset.catalog), encoding="utf-8"
            )
            command += ["--catalog", str(work / "catalog.jsonl")]
        log(f"{dataset.name}: recs tune --trials {fits} on {written} events")
        began = time.perf_counter()
        done = subprocess.run([recs_executable(), *command], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"recs tune failed on {dataset.name}: {done.stderr.strip()[-2000:]}")
        tuned: dict[str, Any] = json.loads((work / "tuned.json").read_text(encoding="utf-8"))
    return {
        "dataset": dataset.name,
        "label": dataset.label,
        "events": written,
        "seconds": round(time.perf_counter() - began, 1),
        "chosen": tuned["parameters"],
        "validationNdcg": tuned["validationNdcg"],
        "bestPerFamily": best_per_family(tuned["search"]["trials"]),
        "fits": tuned["search"]["fits"],
        "stoppedBy": tuned["search"]["stoppedBy"],
    }


def best_per_family(trials: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each family's best trial: its values and validation NDCG."""
    best: dict[str, dict[str, Any]] = {}
    for trial in trials:
        family = trial["family"]
        if family not in best or trial["ndcg"] > best[family]["ndcg"]:
            best[family] = {"ndcg": trial["ndcg"], "parameters": trial["parameters"]}
    return best


def snap(axis: str, value: float) -> Any:
    """The search's own value of ``axis`` nearest to ``value`` (in log space): a listed step, or
    for a geometric axis the current default times a whole power of the axis' factor."""
    if axis in STEPPED:
        steps = [s for s in STEPPED[axis] if not isinstance(s, str | bool)]
        finite = [s for s in steps if s != 0 or axis != "half_life_days"]
        return min(finite, key=lambda s: abs(_log(s) - _log(value)))
    factor, low, high = GEOMETRIC[axis]
    anchor = float(TrainingParameters.model_fields[axis].get_default())
    snapped = anchor * factor ** round(math.log(value / anchor) / math.log(factor))
    snapped = min(max(snapped, low), high)
    return round(snapped) if axis == "als_factors" else float(snapped)


def _log(value: float) -> float:
    return math.log(value) if value > 0 else -10.0


def propose(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Starting values: per family, the geometric mean of its best trials, snapped to the steps;
    the mix where most data sets ended (ties: the first data set's)."""
    proposal: dict[str, Any] = {}
    for family, axes in FAMILY_AXES.items():
        bests = [run["bestPerFamily"][family]["parameters"] for run in runs if family in run["bestPerFamily"]]
        for axis in axes:
            if axis in proposal or not bests:
                continue
            values = [float(best[axis]) for best in bests if axis in best]
            numeric = [v for v in values if v > 0]
            if axis == "half_life_days" and len(numeric) < len(values) / 2:
                proposal[axis] = 0.0  # most data sets wanted no decay at all
                continue
            mean = math.exp(sum(math.log(v) for v in numeric) / len(numeric)) if numeric else 0.0
            proposal[axis] = snap(axis, mean) if mean > 0 else 0.0
    for axis in MIX_AXES:
        votes = Counter(json.dumps(run["chosen"][axis]) for run in runs if axis in run["chosen"])
        if votes:
            proposal[axis] = json.loads(votes.most_common(1)[0][0])
    return proposal


def run(quick: bool, tune: Callable[[Dataset, Any, int], dict[str, Any]] = tune_one) -> dict[str, Any]:
    fits = QUICK_FITS if quick else FITS
    runs = [tune(dataset, rows, fits) for dataset, rows in _training_parts(quick)]
    return {
        "command": COMMAND + (" --quick" if quick else ""),
        "mode": "quick" if quick else "full",
        "fitsPerDataset": fits,
        "machine": describe_machine(),
        "runs": runs,
        "proposal": propose(runs),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FITS} fits, 600 households")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the record goes")
    args = parser.parse_args(argv)
    result = run(args.quick)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out}; proposal {result['proposal']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
