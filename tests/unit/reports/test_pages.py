"""The report pages are single self-contained files that say what the data says."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

from recs_tools.reports.experiment_report import ExperimentReportInput, experiment_page
from recs_tools.reports.experiment_stats import aggregate
from recs_tools.reports.generate import LATEST_MODEL, ReportOptions, write_index, write_model_reports
from recs_tools.reports.model_report import ModelReportInput, VersionRecord, model_page
from recs_tools.reports.model_stats import RankedList

EVALUATION = {
    "family": "als",
    "model": {"k": 10, "ndcg": 0.3, "precision": 0.1, "recall": 0.4, "coverage": 0.5},
    "popularity": {"k": 10, "ndcg": 0.2, "precision": 0.08, "recall": 0.3, "coverage": 0.1},
    "liftOverPopularity": 1.5,
    "gate": {"passed": True, "reason": "NDCG@10 0.3000 beats popularity 0.2000"},
    "generatedAt": "2026-11-20T03:00:00Z",
    "parameters": {"training_window_days": 30},
}


def _external_references(page: str) -> list[str]:
    return re.findall(r"(?:src|href)=['\"]?(?:https?:)?//[^'\" >]+", page)


def test_a_model_page_embeds_its_charts_and_compares_with_the_previous_version() -> None:
    # Given a version, its predecessor with a better NDCG, and lists over known popularity
    previous = VersionRecord("v1", {"status": "published"}, {**EVALUATION, "model": {"ndcg": 0.4}})
    record = VersionRecord("v2<script>", {"status": "published"}, EVALUATION)
    lists = [[("p1", 0.9), ("p2", 0.4)], [("p1", 0.8), ("p3", 0.2)]]
    # When its page is rendered
    page = model_page(
        ModelReportInput(
            record=record,
            previous=previous,
            history=[previous, record],
            lists=lists,
            popularity={"p1": 10, "p2": 5, "p3": 1},
            k=10,
            source="test",
        )
    )
    # Then it names the previous version with the relative change (-25% NDCG), escapes text,
    # and every chart is an inline SVG data URI (no external reference at all)
    assert "previous (v1)" in page
    assert "-25.0%" in page
    assert "<script>" not in page
    assert "v2&lt;script&gt;" in page
    charts = re.findall(r"src='data:image/svg\+xml;base64,([^']+)'", page)
    assert len(charts) == 5  # metrics, head share, long tail, scores, history
    assert all(base64.b64decode(c).lstrip().startswith(b"<?xml") for c in charts)
    assert _external_references(page) == []


def test_a_model_page_without_interaction_counts_says_so() -> None:
    # Given a version whose popularity is unknown
    page = model_page(
        ModelReportInput(VersionRecord("v1", {}, EVALUATION), None, [], [[("p1", 1.0)]], {}, k=10, source="t")
    )
    # Then the bias section says it has no data instead of showing figures
    assert "no interaction counts available" in page


def test_the_experiment_page_marks_a_significant_difference() -> None:
    # Given 30/100 clicked lists for "control" and 45/100 for "model" (p = 0.028)
    served = [f"r1:homepage:user:hp:control:{n:016x}" for n in range(100)]
    served += [f"r1:homepage:user:hp:model:{1000 + n:016x}" for n in range(100)]
    events = [{"eventType": "click", "recommendationId": served[n]} for n in range(30)]
    events += [{"eventType": "click", "recommendationId": served[100 + n]} for n in range(45)]
    # When the page is rendered
    page = experiment_page(
        ExperimentReportInput(aggregate(served, events), "last week", "test", reference="control")
    )
    # Then the model's CTR row carries the z-test result, marked significant
    assert "Experiment hp · context homepage" in page
    assert "z=+2.19, p=0.0285 *" in page
    assert "30.00%" in page
    assert "45.00%" in page


def test_an_empty_experiment_page_says_how_to_get_data() -> None:
    page = experiment_page(ExperimentReportInput({}, "last week", "test"))
    assert "RecommendExperiments" in page


class _Versions:
    """A model source of two stored versions, the first of them serving."""

    label = "fake"

    def versions(self) -> list[str]:
        return ["v1", "v2"]

    def record(self, version: str) -> VersionRecord:
        return VersionRecord(version, {"status": "published"}, EVALUATION)

    def serving_version(self) -> str | None:
        return "v1"

    def lists(self, version: str, limit: int) -> list[RankedList]:
        shown: list[RankedList] = [[("p1", 1.0)]]
        return shown[:limit]

    def popularity(self, record: VersionRecord) -> dict[str, int]:
        return {"p1": 3, "p2": 1}

    def catalog_items(self, version: str) -> int | None:
        return None


def test_the_latest_page_is_the_serving_version_and_the_index_links_every_page(tmp_path: Path) -> None:
    # Given two versions of which v1 serves
    # When the model reports and the index are written
    pages = write_model_reports(_Versions(), tmp_path, ReportOptions(last_versions=5))
    index = write_index(tmp_path, pages, generated=datetime(2026, 11, 26, tzinfo=UTC))
    # Then each version has its page, the latest page is v1's, and the index links them all
    assert [p.name for p in pages] == ["model-v1.html", "model-v2.html"]
    assert (tmp_path / LATEST_MODEL).read_text() == (tmp_path / "model-v1.html").read_text()
    assert all(f"href='{p.name}'" in index.read_text() for p in pages)
