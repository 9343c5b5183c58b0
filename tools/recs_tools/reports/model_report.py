"""The HTML report of one model version: holdout metrics, coverage, popularity bias, scores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recs_tools.reports import html, plots
from recs_tools.reports.model_stats import ListSummary, RankedList, metric_rows, summarize_lists


@dataclass(frozen=True)
class VersionRecord:
    """What is stored about a version: its META row and its ``evaluation.json``."""

    version: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    evaluation: Mapping[str, Any] | None = None

    @property
    def status(self) -> str:
        return str(self.meta.get("status", "offline"))

    @property
    def model_metrics(self) -> Mapping[str, float] | None:
        return (self.evaluation or {}).get("model")

    @property
    def baseline_metrics(self) -> Mapping[str, float] | None:
        return (self.evaluation or {}).get("popularity")


@dataclass(frozen=True)
class ModelReportInput:
    record: VersionRecord
    previous: VersionRecord | None
    history: Sequence[VersionRecord]
    lists: Sequence[RankedList]
    popularity: Mapping[str, int]
    k: int
    source: str
    catalog_items: int | None = None
    serving: bool = False


def model_page(data: ModelReportInput) -> str:
    summary = summarize_lists(data.lists, data.popularity, k=data.k, catalog_items=data.catalog_items)
    record, evaluation = data.record, data.record.evaluation or {}
    gate = evaluation.get("gate") or {}
    subtitle = (
        f"{data.source} · status {record.status}{' (serving)' if data.serving else ''} · "
        f"family {evaluation.get('family') or record.meta.get('family', 'n/a')} · "
        f"generated {evaluation.get('generatedAt') or record.meta.get('generatedAt', 'n/a')}"
    )
    model_ndcg = (record.model_metrics or {}).get("ndcg")
    parts = [
        html.cards(
            [
                (f"holdout NDCG@{data.k}", html.number(model_ndcg)),
                ("lift over popularity", html.percent(_lift(evaluation))),
                ("quality gate", "passed" if gate.get("passed") else "refused" if gate else "n/a"),
                (f"catalog coverage of the top {data.k}", html.percent(summary.coverage)),
                ("lists examined", f"{summary.lists:,}"),
            ]
        ),
        html.paragraph(f"Gate: {gate.get('reason', 'no decision recorded')}"),
        *_metrics_section(data),
        *_lists_section(summary, data.popularity, data.lists),
        *_history_section(data.history),
    ]
    return html.page(f"Model report · {record.version}", subtitle, "".join(parts))


def _lift(evaluation: Mapping[str, Any]) -> float | None:
    lift = evaluation.get("liftOverPopularity")
    return None if lift is None else float(lift) - 1.0


def _metrics_section(data: ModelReportInput) -> list[str]:
    previous = data.previous
    rows = metric_rows(
        data.record.model_metrics, data.record.baseline_metrics, previous.model_metrics if previous else None
    )
    k = int((data.record.model_metrics or {}).get("k", data.k))
    users = (data.record.evaluation or {}).get("holdout", {}).get("evaluatedUsers")
    table = html.table(
        [
            "metric",
            "this version",
            "popularity",
            "vs popularity",
            f"previous ({previous.version if previous else 'none'})",
            "vs previous",
        ],
        [
            [
                f"{r.name}@{k}",
                html.number(r.value),
                html.number(r.baseline),
                html.signed(r.lift_over_baseline),
                html.number(r.previous),
                html.signed(r.change_from_previous),
            ]
            for r in rows
        ],
    )
    return [
        html.heading("Holdout metrics"),
        html.paragraph(
            "Time-based holdout: trained on everything before the cut-off, scored on what each "
            f"shopper did after it ({users if users is not None else 'n/a'} shoppers evaluated). "
            "The popularity baseline is scored on the same holdout; the previous version's "
            "figures come from its own run."
        ),
        table,
        html.chart(plots.metrics_chart(rows, k=k), "holdout metrics"),
    ]


def _lists_section(
    summary: ListSummary, popularity: Mapping[str, int], lists: Sequence[RankedList]
) -> list[str]:
    parts = [
        html.heading(f"What the lists show (top {summary.k} per shopper)"),
        html.cards(
            [
                ("products ever shown", f"{summary.distinct_items:,} of {summary.catalog_items:,}"),
                ("coverage", html.percent(summary.coverage)),
            ]
        ),
    ]
    bias = summary.bias
    if bias is None:
        parts.append(html.paragraph("Popularity bias: no interaction counts available for this version."))
    else:
        parts += [
            html.cards(
                [
                    ("slots on the top 10% products", html.percent(bias.head_share_of_recommendations)),
                    ("their share of interactions", html.percent(bias.head_share_of_interactions)),
                    ("mean popularity percentile", f"{bias.mean_popularity_percentile:.1f}"),
                    ("Gini of exposure", html.number(bias.gini, 3)),
                ]
            ),
            html.paragraph(
                "A list as popular as the shoppers' behaviour gives the top 10% of products the same "
                "share of slots as they have of interactions; more means the model favours bestsellers. "
                "The percentile is that of each shown product's interaction count (50 = median product); "
                "the Gini coefficient is 0 when every product is shown equally often, near 1 when a few "
                "products take every slot."
            ),
        ]
        ranked = sorted(popularity, key=lambda item: (-popularity[item], item))
        shown = Counter(item for items in lists for item, _ in items[: summary.k])
        parts.append(
            "<div class=grid>"
            + html.chart(
                plots.head_share_chart(
                    bias.head_share_of_interactions, bias.head_share_of_recommendations, bias.head_items
                ),
                "share of the most popular products",
            )
            + html.chart(
                plots.long_tail_chart([popularity[i] for i in ranked], [shown.get(i, 0) for i in ranked]),
                "long tail",
            )
            + "</div>"
        )
    if summary.scores:
        parts += [
            html.heading("Score distribution"),
            html.paragraph(
                "Scores are the model's ranking scores as stored with each list: they order products "
                "within a list and are not comparable across model families."
            ),
            html.chart(plots.score_histogram(summary.scores, k=summary.k), "score histogram"),
        ]
    return parts


def _history_section(history: Sequence[VersionRecord]) -> list[str]:
    evaluated = [r for r in history if r.model_metrics]
    if len(evaluated) < 2:
        return []
    rows = [
        [
            r.version,
            r.status,
            html.number((r.model_metrics or {}).get("ndcg")),
            html.number((r.baseline_metrics or {}).get("ndcg")),
        ]
        for r in evaluated
    ]
    return [
        html.heading("Versions"),
        html.table(["version", "status", "NDCG", "popularity NDCG"], rows),
        html.chart(
            plots.history_chart(
                [r.version for r in evaluated],
                [(r.model_metrics or {}).get("ndcg") for r in evaluated],
                [(r.baseline_metrics or {}).get("ndcg") for r in evaluated],
            ),
            "NDCG per version",
        ),
    ]
