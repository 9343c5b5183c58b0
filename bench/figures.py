"""The common shape of a reported figure, and the statistics every benchmark uses.

Each benchmark's ``run(quick)`` returns ``{"figures": [Figure, ...], ...}``; the report turns the
figures into one table per area. A figure carries its value, the baseline it is compared with
(measured in the same run), their ratio, the goal and whether the value meets it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

from recs.evaluation import PairedDifference


class Figure(TypedDict):
    """One line of a results table.

    ``ratio`` is ``value / baselineValue``; ``met`` is None when the figure has no goal.
    """

    area: str
    name: str
    value: float | None
    unit: str
    baseline: str | None
    baselineValue: float | None
    ratio: float | None
    goal: str | None
    met: bool | None
    note: str | None


def figure(
    area: str,
    name: str,
    value: float | None,
    unit: str,
    *,
    baseline: str | None = None,
    baseline_value: float | None = None,
    goal: str | None = None,
    met: bool | None = None,
    note: str | None = None,
    digits: int = 4,
) -> Figure:
    """Build a figure, computing the ratio to its baseline."""
    ratio = None
    if value is not None and baseline_value:
        ratio = round(value / baseline_value, 3)
    return Figure(
        area=area,
        name=name,
        value=None if value is None else round(float(value), digits),
        unit=unit,
        baseline=baseline,
        baselineValue=None if baseline_value is None else round(float(baseline_value), digits),
        ratio=ratio,
        goal=goal,
        met=met,
        note=note,
    )


def percentiles_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99/mean in milliseconds over every sample (nearest-rank)."""
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000, 3)

    return {
        "n": len(ordered),
        "p50Ms": at(0.50),
        "p95Ms": at(0.95),
        "p99Ms": at(0.99),
        "meanMs": round(statistics.fmean(ordered) * 1000, 3),
    }


def median_time(call: Callable[[], Any], repeats: int, before: Callable[[], Any] | None = None) -> float:
    """Median wall seconds of ``repeats`` calls (``before`` runs untimed ahead of each)."""
    samples = []
    for _ in range(repeats):
        if before is not None:
            before()
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def describe_difference(summary: dict[str, Any]) -> str:
    """A figure note from a `PairedDifference.as_dict()` in the results."""
    return PairedDifference(**summary).describe()
