"""Results files as `python -m bench` writes them, for the report and doc-generation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.figures import Figure, figure, goal_figure

CLEAN = {"commit": "1111111111111111111111111111111111111111", "uncommittedChanges": False}
OTHER_CLEAN = {"commit": "2222222222222222222222222222222222222222", "uncommittedChanges": False}
DIRTY = {"commit": "3333333333333333333333333333333333333333", "uncommittedChanges": True}


def result(
    benchmark: str,
    area: str,
    figures: list[Figure],
    *,
    git: dict[str, Any],
    mode: str = "full",
) -> dict[str, Any]:
    """One benchmark's results file, ``git`` being its ``machine.git`` stamp."""
    return {
        "benchmark": benchmark,
        "area": area,
        "summary": f"what {benchmark} measures",
        "mode": mode,
        "status": "ok",
        "startedAt": "2026-01-01T00:00:00Z",
        "wallSeconds": 1.0,
        "loadAverage1m": {"before": 0.1, "after": 0.2},
        "machine": {"cpu": "Test CPU", "cores": 2, "packages": {"numpy": "2"}, "git": git},
        "command": f"python -m bench --only {benchmark}",
        "seeds": {"data": 7},
        "figures": figures,
    }


def write(results_dir: Path, *results: dict[str, Any]) -> Path:
    """Write each result to ``<benchmark>.json`` in ``results_dir``; returns the directory."""
    results_dir.mkdir(parents=True, exist_ok=True)
    for one in results:
        (results_dir / f"{one['benchmark']}.json").write_text(json.dumps(one), encoding="utf-8")
    return results_dir


def timing(area: str = "Ingest", *, met: bool = True) -> Figure:
    """A figure without per-user data: judged on its boolean."""
    return figure(
        area,
        "throughput",
        60_000.0,
        "events/s",
        baseline="floor",
        baseline_value=120_000.0,
        goal=">= 50,000",
        met=met,
    )


def tied_quality(area: str = "Quality: test shop") -> Figure:
    """A quality goal whose paired interval straddles zero although ours is ahead on average."""
    rng = np.random.default_rng(7)
    theirs = rng.uniform(0.0, 1.0, size=300)
    noise = rng.normal(0.0, 0.2, size=150)
    # A hair ahead on average (the noise sums to zero), lost in the noise user by user.
    ours = theirs + 0.002 + np.concatenate([noise, -noise])
    made = goal_figure(area, "NDCG@10, recs", ours, theirs, baseline="implicit ALS", seed=3)
    assert made["value"] is not None
    assert made["baselineValue"] is not None
    assert made["value"] > made["baselineValue"], "the point estimates alone would read met"
    return made


def won_quality(area: str = "Quality: test shop") -> Figure:
    """A quality goal whose paired interval lies above zero."""
    rng = np.random.default_rng(11)
    theirs = rng.uniform(0.0, 0.5, size=300)
    return goal_figure(
        area, "NDCG@10, recs vs popularity", theirs + 0.2, theirs, baseline="popularity", seed=3
    )
