"""Experiment statistics from attributed events: rates per variant and context, with uncertainty.

An impression is one served list (one ``recommendationId``). A list counts as clicked, carted or
bought when at least one ``click``, ``add_to_cart`` or ``purchase`` event carries its id, so each
rate is a proportion of lists (docs/serving.md, "CTR and add-to-cart rate per variant"). Wilson
intervals stay inside [0, 1] and behave at small counts; variants are compared with a pooled
two-proportion z-test against the reference variant, and all variants together with a
chi-square test of independence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from scipy import stats

from recs.serving.attribution import RecommendationId

#: Event type -> the outcome it marks a list with.
OUTCOMES = {"click": "clicked", "add_to_cart": "carted", "purchase": "bought"}
OUTCOME_LABELS = {"clicked": "CTR", "carted": "add-to-cart rate", "bought": "conversion"}


@dataclass(frozen=True)
class Cell:
    """Who was shown what: one experiment's variant in one context (``-`` when in none)."""

    experiment: str
    variant: str
    context: str


def cell_of(recommendation_id: str) -> Cell | None:
    parsed = RecommendationId.parse(recommendation_id)
    if parsed is None:
        return None
    return Cell(parsed.experiment or "-", parsed.variant or "-", parsed.context)


@dataclass
class CellCounts:
    impressions: int = 0
    #: Lists with an outcome but no impression found (e.g. older than the logs' retention).
    unmatched: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES.values(), 0))


def aggregate(served_ids: Iterable[str], events: Iterable[Mapping[str, object]]) -> dict[Cell, CellCounts]:
    """Impressions and lists with each outcome, per cell.

    Every list with an outcome is also an impression, even when its served line is missing,
    so no rate can exceed 1; such lists are counted in ``unmatched`` to show the gap.
    """
    served: set[str] = set()
    counts: dict[Cell, CellCounts] = defaultdict(CellCounts)
    for recommendation_id in served_ids:
        cell = cell_of(recommendation_id)
        if cell is not None and recommendation_id not in served:
            served.add(recommendation_id)
            counts[cell].impressions += 1
    marked: dict[str, set[str]] = defaultdict(set)
    for event in events:
        outcome = OUTCOMES.get(str(event.get("eventType")))
        attributed = event.get("recommendationId")
        if outcome and isinstance(attributed, str) and cell_of(attributed) is not None:
            marked[attributed].add(outcome)
    for recommendation_id, outcomes in marked.items():
        cell = cell_of(recommendation_id)
        assert cell is not None
        if recommendation_id not in served:
            counts[cell].impressions += 1
            counts[cell].unmatched += 1
        for outcome in outcomes:
            counts[cell].outcomes[outcome] += 1
    return dict(counts)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a binomial proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return Interval(0.0, 1.0)
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2.0 * trials)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float


def two_proportion_z_test(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> ZTest | None:
    """Pooled two-sided z-test of p_b = p_a; None when undefined (no trials, or no variance)."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    variance = pooled * (1.0 - pooled) * (1.0 / trials_a + 1.0 / trials_b)
    if variance <= 0:
        return None
    z = (successes_b / trials_b - successes_a / trials_a) / math.sqrt(variance)
    return ZTest(z, float(2.0 * stats.norm.sf(abs(z))))


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    p_value: float
    dof: int


def chi_square(successes: Sequence[int], trials: Sequence[int]) -> ChiSquare | None:
    """Chi-square test that every group has the same rate (no continuity correction)."""
    table = [[s, n - s] for s, n in zip(successes, trials, strict=True) if n > 0]
    if len(table) < 2 or any(sum(column) == 0 for column in zip(*table, strict=True)):
        return None
    result = stats.chi2_contingency(table, correction=False)
    return ChiSquare(float(result.statistic), float(result.pvalue), int(result.dof))


@dataclass(frozen=True)
class VariantRate:
    variant: str
    impressions: int
    successes: int
    rate: float
    interval: Interval
    versus_reference: ZTest | None


@dataclass(frozen=True)
class Comparison:
    """One outcome of one experiment in one context: each variant's rate, and the tests."""

    experiment: str
    context: str
    outcome: str
    reference: str
    variants: list[VariantRate]
    overall: ChiSquare | None


def compare(
    counts: Mapping[Cell, CellCounts], *, confidence: float = 0.95, reference: str | None = None
) -> list[Comparison]:
    """Per experiment, context and outcome: rates with intervals, tests against the reference.

    The reference is ``reference`` when that variant is present, else the first variant by name.
    """
    groups: dict[tuple[str, str], dict[str, CellCounts]] = defaultdict(dict)
    for cell, cell_counts in counts.items():
        groups[(cell.experiment, cell.context)][cell.variant] = cell_counts
    comparisons: list[Comparison] = []
    for (experiment, context), variants in sorted(groups.items()):
        names = sorted(variants)
        base = reference if reference in variants else names[0]
        for outcome in OUTCOMES.values():
            base_counts = variants[base]
            rates = []
            for name in names:
                c = variants[name]
                successes = c.outcomes[outcome]
                test = (
                    None
                    if name == base
                    else two_proportion_z_test(
                        base_counts.outcomes[outcome], base_counts.impressions, successes, c.impressions
                    )
                )
                rates.append(
                    VariantRate(
                        name,
                        c.impressions,
                        successes,
                        successes / c.impressions if c.impressions else 0.0,
                        wilson_interval(successes, c.impressions, confidence),
                        test,
                    )
                )
            overall = chi_square([r.successes for r in rates], [r.impressions for r in rates])
            comparisons.append(Comparison(experiment, context, outcome, base, rates, overall))
    return comparisons
