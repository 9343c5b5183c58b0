"""The common shape of a reported figure, and the statistics every benchmark uses.

Each benchmark's ``run(quick)`` returns ``{"figures": [Figure, ...], ...}``; the report turns the
figures into one table per area. A figure carries its value, the baseline it is compared with
(measured in the same run), their ratio, the goal and whether the value meets it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal, NotRequired, TypedDict

import numpy as np
import numpy.typing as npt

from recs.evaluation import PairedDifference, paired_bootstrap

#: How a goal comparison reads: "met" and "not met" only when the interval agrees.
Verdict = Literal["met", "tie", "not met"]


class Figure(TypedDict):
    """One line of a results table.

    ``ratio`` is ``value / baselineValue``; ``met`` is None when the figure has no goal.
    ``verdict`` reads a goal against a paired interval (`goal_figure`): "tie" when the interval
    of the difference straddles zero, whatever the point estimates say; ``difference`` is that
    interval (`PairedDifference.as_dict()`). Figures without per-user data carry neither.
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
    verdict: NotRequired[Verdict | None]
    difference: NotRequired[dict[str, Any] | None]


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


def verdict_of(difference: PairedDifference) -> Verdict:
    """ "met" when the whole interval is above zero, "not met" when below, else "tie"."""
    if difference.low > 0:
        return "met"
    if difference.high < 0:
        return "not met"
    return "tie"


def goal_figure(
    area: str,
    name: str,
    ours: npt.NDArray[np.floating[Any]],
    theirs: npt.NDArray[np.floating[Any]],
    *,
    baseline: str,
    factor: float = 1.0,
    goal: str | None = None,
    seed: int = 0,
    unit: str = "",
    note: str | None = None,
    digits: int = 4,
) -> Figure:
    """A quality goal ``mean(ours) >= factor x mean(theirs)`` judged on per-user values.

    ``ours`` and ``theirs`` are aligned per evaluated user (the same users, the same order). The
    difference ``ours - factor x theirs`` gets a 95% paired-bootstrap interval; the verdict is
    "met" only when the interval lies above zero, "not met" when below, and "tie" otherwise (a
    difference the data cannot decide is not a win).
    """
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    difference = paired_bootstrap(ours, factor * theirs, seed=seed)
    verdict = verdict_of(difference)
    scaled = "" if factor == 1.0 else f"{factor:g} x "
    made = figure(
        area,
        name,
        float(ours.mean()),
        unit,
        baseline=baseline,
        baseline_value=float(theirs.mean()),
        goal=goal or f">= {scaled}{baseline}",
        met=verdict == "met",
        note=" ; ".join(part for part in (difference.describe(), note) if part),
        digits=digits,
    )
    made["verdict"] = verdict
    made["difference"] = difference.as_dict()
    return made


def judged_figure(
    area: str,
    name: str,
    value: float,
    *,
    baseline: str,
    baseline_value: float,
    goal: str,
    difference: dict[str, Any],
    unit: str = "",
    note: str | None = None,
    digits: int = 4,
) -> Figure:
    """A quality goal judged on a paired difference the benchmark computed and keeps in its results.

    `goal_figure` for benchmarks that already hold their comparisons as
    `PairedDifference.as_dict()` (``ndcgDifferences``), so their figures can be rebuilt from the
    results alone. ``difference`` must be the one the goal reads (``ours - factor x theirs``);
    the verdict, ``met`` (True only when "met") and the noted interval all come from it.
    """
    paired = PairedDifference(**difference)
    verdict = verdict_of(paired)
    made = figure(
        area,
        name,
        value,
        unit,
        baseline=baseline,
        baseline_value=baseline_value,
        goal=goal,
        met=verdict == "met",
        note=" ; ".join(part for part in (paired.describe(), note) if part),
        digits=digits,
    )
    made["verdict"] = verdict
    made["difference"] = paired.as_dict()
    return made
