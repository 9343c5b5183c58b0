"""Reports of a running local stack (`recs_tools.local.stack.LocalStack`): what ``make demo`` serves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from recs_tools.reports.generate import (
    ReportOptions,
    Track,
    no_progress,
    write_experiment_report,
    write_index,
    write_model_reports,
)
from recs_tools.reports.sources import StackNames, StackSource, stack_source

if TYPE_CHECKING:
    from recs_tools.local.stack import LocalStack

#: Where the local stack's HTTP server mounts the reports folder.
REPORTS_PREFIX = "/reports/"


def local_stack_source(stack: LocalStack) -> StackSource:
    names = StackNames(
        model_table=stack.physical["ModelTable"],
        artifact_bucket=stack.physical["ArtifactBucket"],
        lake_bucket=stack.physical["EventLakeBucket"],
        recommend_log_group=stack.physical.get("RecommendLogGroup"),
    )
    clients = {service: stack.client(service) for service in ("s3", "dynamodb", "logs")}
    return stack_source(names, clients, "local stack (moto)")


@dataclass(frozen=True)
class ListedServed:
    """Impressions counted by whoever displayed the lists (the demo's simulated shoppers)."""

    ids: Sequence[str]

    def served_ids(self, start: datetime, end: datetime) -> Sequence[str]:
        return self.ids


def write_local_reports(
    stack: LocalStack,
    out: Path,
    options: ReportOptions | None = None,
    track: Track = no_progress,
    served: Sequence[str] | None = None,
) -> Path:
    """Every report of the local stack into ``out``; returns the index page.

    ``served``: the recommendationIds of the lists shown, when they do not come from the
    recommend function's log group (the local functions log to the console).
    """
    options = options or ReportOptions()
    source = local_stack_source(stack)
    if served is not None:
        source.served = ListedServed(served)
        source.impressions_from = f"{len(served):,} lists shown to the demo's simulated shoppers"
    now = datetime.now(UTC)
    pages = write_model_reports(source, out, options, track)
    pages.append(write_experiment_report(source, out, now, options))
    return write_index(out, pages, now)


def demo_reports_dir(stack: LocalStack) -> Path:
    """``build/reports/`` of the checkout: kept after the demo stops, ignored by git; pages of
    earlier demos' stacks (gone with their process) are removed."""
    folder = stack.root / "build" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for page in folder.glob("*.html"):
        page.unlink()
    return folder
