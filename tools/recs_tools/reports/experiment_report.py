"""The HTML report of the experiments: rates per variant and context, intervals and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recs_tools.reports import html, plots
from recs_tools.reports.experiment_stats import OUTCOME_LABELS, Cell, CellCounts, Comparison, compare


@dataclass(frozen=True)
class ExperimentReportInput:
    counts: Mapping[Cell, CellCounts]
    period: str
    source: str
    confidence: float = 0.95
    reference: str | None = None


def experiment_page(data: ExperimentReportInput) -> str:
    comparisons = compare(data.counts, confidence=data.confidence, reference=data.reference)
    impressions = sum(c.impressions for c in data.counts.values())
    unmatched = sum(c.unmatched for c in data.counts.values())
    subtitle = f"{data.source} · {data.period}"
    parts = [
        html.cards(
            [
                ("impressions (served lists)", f"{impressions:,}"),
                ("lists clicked", f"{sum(c.outcomes['clicked'] for c in data.counts.values()):,}"),
                ("lists bought from", f"{sum(c.outcomes['bought'] for c in data.counts.values()):,}"),
                ("lists with events but no served line", f"{unmatched:,}"),
            ]
        ),
        html.paragraph(
            "Each served list has one recommendationId; a list counts as clicked, added to cart or "
            "bought when an event of that type carries its id. Rates are lists with the outcome / "
            f"served lists, with {data.confidence:.0%} Wilson intervals. Each variant is compared with "
            "the reference variant by a two-sided two-proportion z-test; the chi-square test asks "
            "whether all variants of the experiment share one rate in that context. A p-value below "
            f"{1 - data.confidence:.2f} is marked significant; with several contexts and outcomes "
            "some such results are expected by chance, so decide on the outcome chosen beforehand."
        ),
    ]
    if not comparisons:
        parts.append(
            html.paragraph(
                "No served list and no attributed event in this period: configure an experiment "
                "(template parameter RecommendExperiments) and send recommendationId with clicks."
            )
        )
    for (experiment, context), group in _grouped(comparisons).items():
        title = f"Experiment {experiment}" if experiment != "-" else "Not in an experiment"
        parts.append(html.heading(f"{title} · context {context}"))
        parts.append(_table(group, data.confidence))
        parts.append("<div class=grid>")
        for comparison in group:
            if any(v.impressions for v in comparison.variants):
                parts.append(
                    f"<div><p class=note>{OUTCOME_LABELS[comparison.outcome]}</p>"
                    + html.chart(plots.rates_chart(comparison), OUTCOME_LABELS[comparison.outcome])
                    + "</div>"
                )
        parts.append("</div>")
    return html.page("Experiment report", subtitle, "".join(parts))


def _grouped(comparisons: list[Comparison]) -> dict[tuple[str, str], list[Comparison]]:
    groups: dict[tuple[str, str], list[Comparison]] = {}
    for comparison in comparisons:
        groups.setdefault((comparison.experiment, comparison.context), []).append(comparison)
    return groups


def _table(group: list[Comparison], confidence: float) -> str:
    alpha = 1.0 - confidence
    rows: list[list[str]] = []
    for comparison in group:
        overall = comparison.overall
        for rate in comparison.variants:
            test = rate.versus_reference
            rows.append(
                [
                    OUTCOME_LABELS[comparison.outcome],
                    rate.variant + (" (reference)" if rate.variant == comparison.reference else ""),
                    f"{rate.impressions:,}",
                    f"{rate.successes:,}",
                    html.percent(rate.rate, 2),
                    f"{html.percent(rate.interval.low, 2)} – {html.percent(rate.interval.high, 2)}",
                    ""
                    if test is None
                    else f"z={test.z:+.2f}, p={test.p_value:.3g}" + (" *" if test.p_value < alpha else ""),
                    ""
                    if overall is None or rate.variant != comparison.reference
                    else f"χ²={overall.statistic:.2f} (df {overall.dof}), p={overall.p_value:.3g}"
                    + (" *" if overall.p_value < alpha else ""),
                ]
            )
    return html.table(
        [
            "outcome",
            "variant",
            "lists",
            "with outcome",
            "rate",
            f"{confidence:.0%} interval",
            "vs reference",
            "all variants",
        ],
        rows,
    )
