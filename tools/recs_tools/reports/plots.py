"""The reports' charts: matplotlib (Agg, no display) rendered to SVG data URIs.

Each chart is an ``<img>`` with a ``data:image/svg+xml;base64`` source, so a report is one file
and charts never share SVG element ids. Dates are left out of the SVG metadata and the hash salt
is fixed, so the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from recs_tools.reports.experiment_stats import Comparison
from recs_tools.reports.model_stats import MetricRow

# Figures are made without pyplot (no global figure state, safe in the demo's threads); Agg is
# chosen anyway so nothing ever tries to open a display.
matplotlib.use("Agg")
matplotlib.rcParams.update({"svg.hashsalt": "recs-report", "svg.fonttype": "none", "font.size": 9})
COLOURS = {"model": "#2b6cb0", "baseline": "#a0aec0", "previous": "#ed8936", "accent": "#38a169"}


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def metrics_chart(rows: Sequence[MetricRow], *, k: int) -> str:
    """Grouped bars: this version, the popularity baseline and the previous version per metric."""
    figure = Figure(figsize=(6.0, 2.8))
    axes = figure.subplots()
    series = [
        ("this version", [r.value for r in rows], COLOURS["model"]),
        ("popularity baseline", [r.baseline for r in rows], COLOURS["baseline"]),
        ("previous version", [r.previous for r in rows], COLOURS["previous"]),
    ]
    present = [s for s in series if any(v is not None for v in s[1])]
    width = 0.8 / max(1, len(present))
    for offset, (label, values, colour) in enumerate(present):
        positions = [i + (offset - (len(present) - 1) / 2) * width for i in range(len(rows))]
        axes.bar(positions, [v or 0.0 for v in values], width, label=label, color=colour)
    axes.set_xticks(range(len(rows)), [f"{r.name}@{k}" for r in rows])
    axes.set_ylim(0, 1)
    axes.set_ylabel("holdout value")
    axes.legend(frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def score_histogram(scores: Sequence[float], *, k: int) -> str:
    figure = Figure(figsize=(6.0, 2.4))
    axes = figure.subplots()
    axes.hist(scores, bins=40, color=COLOURS["model"])
    axes.set_xlabel(f"score of the top {k} products per list")
    axes.set_ylabel("products shown")
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def head_share_chart(interactions_share: float, recommendations_share: float, head_items: int) -> str:
    figure = Figure(figsize=(6.0, 1.6))
    axes = figure.subplots()
    labels = ["shoppers' interactions", "recommendation slots"]
    values = [interactions_share, recommendations_share]
    axes.barh(labels, values, color=[COLOURS["baseline"], COLOURS["model"]])
    for index, value in enumerate(values):
        axes.text(value + 0.01, index, f"{value:.0%}", va="center")
    axes.set_xlim(0, 1.1)
    axes.set_xlabel(f"share going to the {head_items} most popular products (top 10% by interactions)")
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def long_tail_chart(popularity_ranked: Sequence[int], recommended_ranked: Sequence[int]) -> str:
    """Interactions and recommendations per product, products ordered from most to least popular."""
    figure = Figure(figsize=(6.0, 2.4))
    axes = figure.subplots()
    positions = range(1, len(popularity_ranked) + 1)
    total_pop = sum(popularity_ranked) or 1
    total_rec = sum(recommended_ranked) or 1
    axes.plot(
        positions, [v / total_pop for v in popularity_ranked], color=COLOURS["baseline"], label="interactions"
    )
    axes.plot(
        positions,
        [v / total_rec for v in recommended_ranked],
        color=COLOURS["model"],
        label="recommendations",
    )
    axes.set_xlabel("products, most popular first")
    axes.set_ylabel("share")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def _tick(version: str) -> str:
    """A version's time without its execution hash (``v20261126T030000.123Z-1a2b3c``)."""
    stamp, _, execution_hash = version.rpartition("-")
    return stamp if version.startswith("v") and stamp and len(execution_hash) == 6 else version


def history_chart(
    versions: Sequence[str], model: Sequence[float | None], baseline: Sequence[float | None]
) -> str:
    """Holdout NDCG of each version and of popularity on that version's holdout."""
    figure = Figure(figsize=(6.0, 2.4))
    axes = figure.subplots()
    positions = list(range(len(versions)))
    axes.plot(
        positions,
        [v if v is not None else float("nan") for v in model],
        "o-",
        color=COLOURS["model"],
        label="model",
    )
    axes.plot(
        positions,
        [v if v is not None else float("nan") for v in baseline],
        "s--",
        color=COLOURS["baseline"],
        label="popularity",
    )
    axes.set_xticks(positions, [_tick(v) for v in versions], rotation=30, ha="right")
    axes.set_ylabel("NDCG")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)


def rates_chart(comparison: Comparison) -> str:
    """Each variant's rate with its confidence interval as an error bar."""
    figure = Figure(figsize=(4.2, 0.5 + 0.45 * len(comparison.variants)))
    axes = figure.subplots()
    names = [v.variant for v in comparison.variants]
    rates = [v.rate for v in comparison.variants]
    low = [max(0.0, v.rate - v.interval.low) for v in comparison.variants]
    high = [max(0.0, v.interval.high - v.rate) for v in comparison.variants]
    colours = [COLOURS["baseline"] if n == comparison.reference else COLOURS["model"] for n in names]
    axes.barh(names, rates, xerr=[low, high], color=colours, capsize=3)
    axes.invert_yaxis()
    axes.set_xlim(0, max(0.05, max(v.interval.high for v in comparison.variants) * 1.1))
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return _data_uri(figure)
