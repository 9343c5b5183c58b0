"""What a model version's lists look like: coverage, popularity bias, scores (pure functions).

A list is the ranked ``(product, score)`` pairs one shopper gets; only the first ``k`` (what a
widget shows) count. Popularity is the number of interactions per product in the training
window: the bias figures say how much more the lists favour already-popular products than the
shoppers' own behaviour does.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

RankedList = Sequence[tuple[str, float]]

#: The "head" of the catalog for the popularity-bias share: this fraction of the products.
HEAD_FRACTION = 0.10


@dataclass(frozen=True)
class PopularityBias:
    """How much the shown lists lean towards the most popular products."""

    head_items: int
    head_share_of_recommendations: float
    head_share_of_interactions: float
    mean_popularity_percentile: float
    gini: float


@dataclass(frozen=True)
class ListSummary:
    lists: int
    k: int
    distinct_items: int
    catalog_items: int
    coverage: float
    bias: PopularityBias | None
    scores: list[float]


def head_items(popularity: Mapping[str, int], fraction: float = HEAD_FRACTION) -> set[str]:
    """The ``ceil(fraction * n)`` most interacted-with products (ties broken by id, so stable)."""
    if not popularity:
        return set()
    size = max(1, math.ceil(fraction * len(popularity)))
    ranked = sorted(popularity, key=lambda item: (-popularity[item], item))
    return set(ranked[:size])


def popularity_percentiles(popularity: Mapping[str, int]) -> dict[str, float]:
    """Mid-rank percentile of each product's interaction count, 0-100 (equal counts, equal rank).

    A product no other product outsells sits near 100, the least interacted-with near 0; the
    mid-rank keeps a catalog where every product is equally popular at exactly 50.
    """
    counts = sorted(popularity.values())
    total = len(counts)
    below: dict[int, int] = {}
    equal = Counter(counts)
    seen = 0
    for value in sorted(equal):
        below[value] = seen
        seen += equal[value]
    return {item: 100.0 * (below[c] + 0.5 * equal[c]) / total for item, c in popularity.items()}


def gini(counts: Iterable[int]) -> float:
    """Gini coefficient of how often each product is recommended: 0 all equally, ~1 one product.

    Products never recommended must be included as zeros (``counts`` over the whole catalog).
    """
    values = sorted(counts)
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((index + 1) * value for index, value in enumerate(values))
    return (2.0 * weighted) / (n * total) - (n + 1.0) / n


def popularity_bias(
    lists: Sequence[RankedList], popularity: Mapping[str, int], *, k: int
) -> PopularityBias | None:
    """Share of shown slots on the head, versus the head's share of interactions; None without data."""
    if not popularity or not lists:
        return None
    head = head_items(popularity)
    percentile = popularity_percentiles(popularity)
    shown = [item for ranked in lists for item, _ in ranked[:k]]
    known = [item for item in shown if item in percentile]
    if not shown:
        return None
    interactions = sum(popularity.values())
    recommended = Counter(shown)
    catalog = set(popularity) | set(recommended)
    return PopularityBias(
        head_items=len(head),
        head_share_of_recommendations=sum(1 for item in shown if item in head) / len(shown),
        head_share_of_interactions=sum(popularity[item] for item in head) / interactions
        if interactions
        else 0,
        mean_popularity_percentile=sum(percentile[item] for item in known) / len(known) if known else 0.0,
        gini=gini(recommended.get(item, 0) for item in catalog),
    )


def summarize_lists(
    lists: Sequence[RankedList],
    popularity: Mapping[str, int],
    *,
    k: int,
    catalog_items: int | None = None,
) -> ListSummary:
    """Coverage (distinct products shown / products in the catalog), bias and the shown scores."""
    shown = {item for ranked in lists for item, _ in ranked[:k]}
    catalog = max(catalog_items or 0, len(set(popularity) | shown))
    return ListSummary(
        lists=len(lists),
        k=k,
        distinct_items=len(shown),
        catalog_items=catalog,
        coverage=len(shown) / catalog if catalog else 0.0,
        bias=popularity_bias(lists, popularity, k=k),
        scores=[score for ranked in lists for _, score in ranked[:k]],
    )


@dataclass(frozen=True)
class MetricRow:
    """One holdout metric of this version next to the popularity baseline and the previous version."""

    name: str
    value: float | None
    baseline: float | None
    previous: float | None

    @property
    def lift_over_baseline(self) -> float | None:
        return _relative(self.value, self.baseline)

    @property
    def change_from_previous(self) -> float | None:
        return _relative(self.value, self.previous)


METRICS = ("ndcg", "precision", "recall", "coverage")


def metric_rows(
    model: Mapping[str, float] | None,
    baseline: Mapping[str, float] | None,
    previous: Mapping[str, float] | None,
) -> list[MetricRow]:
    def value(metrics: Mapping[str, float] | None, name: str) -> float | None:
        found = (metrics or {}).get(name)
        return float(found) if found is not None else None

    return [MetricRow(n, value(model, n), value(baseline, n), value(previous, n)) for n in METRICS]


def _relative(value: float | None, reference: float | None) -> float | None:
    """(value - reference) / reference; None when either is unknown or the reference is 0."""
    if value is None or reference is None or reference == 0:
        return None
    return (value - reference) / reference
