"""Write the reports: one page per model version, the experiment page and an index, into a folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from recs.store_layout import iso
from recs_tools.reports import html
from recs_tools.reports.experiment_report import ExperimentReportInput, experiment_page
from recs_tools.reports.experiment_stats import aggregate
from recs_tools.reports.model_report import ModelReportInput, VersionRecord, model_page
from recs_tools.reports.sources import ExperimentSource, ModelSource, ReportError

#: Wraps a sequence of steps to show progress (the CLI passes a progress bar).
Track = Callable[[Sequence[str], str], Iterable[str]]

INDEX = "index.html"
LATEST_MODEL = "model-latest.html"
EXPERIMENTS = "experiments.html"


def no_progress(steps: Sequence[str], _description: str) -> Iterable[str]:
    return steps


@dataclass(frozen=True)
class ReportOptions:
    k: int = 10
    sample_users: int = 2000
    last_versions: int = 3
    experiment_days: float = 14.0
    confidence: float = 0.95
    reference_variant: str | None = None


def model_file(version: str) -> str:
    return f"model-{version}.html"


def write_model_reports(
    source: ModelSource, out: Path, options: ReportOptions, track: Track = no_progress
) -> list[Path]:
    """A page per version (the last ``options.last_versions``), plus ``model-latest.html``."""
    versions = source.versions()
    if not versions:
        raise ReportError(
            f"no trained model version in {source.label}: run `recs train` or `make demo` first"
        )
    serving = source.serving_version()
    records = [source.record(v) for v in versions]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    chosen = versions[-options.last_versions :]
    for version in track(chosen, "model reports"):
        index = versions.index(version)
        record = records[index]
        page = model_page(
            ModelReportInput(
                record=record,
                previous=_previous(records[:index]),
                history=records[: index + 1],
                lists=source.lists(version, options.sample_users),
                popularity=source.popularity(record),
                k=options.k,
                source=source.label,
                catalog_items=source.catalog_items(version),
                serving=version == serving,
            )
        )
        path = out / model_file(version)
        path.write_text(page, encoding="utf-8")
        written.append(path)
    latest = serving if serving in chosen else chosen[-1]
    (out / LATEST_MODEL).write_text((out / model_file(latest)).read_text(encoding="utf-8"), encoding="utf-8")
    return written


def _previous(older: Sequence[VersionRecord]) -> VersionRecord | None:
    """The newest earlier version that was published, else the newest earlier one evaluated."""
    published = [r for r in older if r.status == "published" and r.model_metrics]
    evaluated = [r for r in older if r.model_metrics]
    candidates = published or evaluated
    return candidates[-1] if candidates else None


def write_experiment_report(
    source: ExperimentSource, out: Path, end: datetime, options: ReportOptions
) -> Path:
    start = end - timedelta(days=options.experiment_days)
    counts = aggregate(source.served_ids(start, end), source.events(start, end))
    page = experiment_page(
        ExperimentReportInput(
            counts=counts,
            period=f"{iso(start)} to {iso(end)}",
            source=f"{source.label}; {source.impressions_note}",
            confidence=options.confidence,
            reference=options.reference_variant,
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / EXPERIMENTS
    path.write_text(page, encoding="utf-8")
    return path


def write_index(out: Path, pages: Sequence[Path], generated: datetime) -> Path:
    items = "".join(f"<li>{html.link(p.name, p.stem)}</li>" for p in sorted(pages))
    body = f"<ul><li>{html.link(LATEST_MODEL, 'latest model version')}</li>{items}</ul>"
    path = out / INDEX
    path.write_text(html.page("Reports", f"generated {iso(generated)}", body), encoding="utf-8")
    return path
