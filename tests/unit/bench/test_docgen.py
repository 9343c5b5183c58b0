"""Figures in the docs are generated from bench/results, never typed: the generated block is
replaced in place, and the committed docs must match what the committed results render."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.docgen import BEGIN, END, GeneratedBlockError, generated_block, is_current, with_block, write_block
from bench.report import BENCHMARKS_DOC, RESULTS_DIR, TRAINING_DOC, render, render_quality_goals, write_report
from tests.unit.bench.builders import CLEAN, result, tied_quality, write

DOC = f"# Training\n\nProse before.\n\n{BEGIN}\n| typed | 0.393 |\n{END}\n\nProse after.\n"


def test_the_block_is_replaced_and_the_prose_around_it_kept() -> None:
    # Given a doc with a hand-typed table inside its generated block
    # When the block is rendered into it
    updated = with_block(DOC, "| generated | 0.2049 |\n")
    # Then only the block changed, and rendering again changes nothing
    assert generated_block(updated) == "| generated | 0.2049 |\n"
    assert updated.startswith("# Training\n\nProse before.\n\n" + BEGIN + "\n")
    assert updated.endswith(END + "\n\nProse after.\n")
    assert with_block(updated, "| generated | 0.2049 |") == updated
    assert is_current(updated, "| generated | 0.2049 |\n")
    assert not is_current(DOC, "| generated | 0.2049 |\n")


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        f"{BEGIN}\nno end\n",
        f"{END}\n{BEGIN}\n",
        f"{BEGIN}\na\n{END}\n{BEGIN}\nb\n{END}\n",
    ],
)
def test_a_doc_without_exactly_one_well_formed_block_is_refused(text: str) -> None:
    # Given a doc whose markers are missing, out of order or doubled / When rendered / Then refused
    with pytest.raises(GeneratedBlockError):
        with_block(text, "body")


def test_writing_the_block_reports_whether_the_doc_changed(tmp_path: Path) -> None:
    # Given a doc on disk
    doc = tmp_path / "training.md"
    doc.write_text(DOC)
    # When the same body is written twice / Then only the first write changes the file
    assert write_block(doc, "| generated |\n") is True
    assert write_block(doc, "| generated |\n") is False
    assert generated_block(doc.read_text()) == "| generated |\n"
    # And a doc without a block names itself in the error
    bare = tmp_path / "bare.md"
    bare.write_text("no block\n")
    with pytest.raises(GeneratedBlockError, match=r"bare\.md"):
        write_block(bare, "x")


def test_a_published_report_refreshes_the_training_block_from_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given results, and docs/ standing in a temporary directory
    results = write(
        tmp_path / "results", result("als_quality", "Quality: q", [tied_quality("Quality: q")], git=CLEAN)
    )
    docs = tmp_path / "docs"
    docs.mkdir()
    training = docs / "training.md"
    training.write_text(DOC)
    monkeypatch.setattr("bench.report.DOCS_DIR", docs)
    # When the report is written inside docs/
    write_report(results, docs / "benchmarks.md", training_doc=training)
    # Then the training block is what the results render: the tie, not the typed number
    block = generated_block(training.read_text())
    assert block == render_quality_goals(results)
    assert "**tie**" in block
    assert "0.393" not in block


def test_docs_training_block_matches_the_committed_results() -> None:
    # Given the committed docs/training.md and bench/results
    text = TRAINING_DOC.read_text(encoding="utf-8")
    # When the block is rendered from the results / Then the doc already holds exactly that
    assert is_current(text, render_quality_goals(RESULTS_DIR)), (
        "docs/training.md's generated block is stale or was edited by hand: run `python -m bench.report`"
    )


def test_docs_benchmarks_matches_the_committed_results() -> None:
    # Given the committed docs/benchmarks.md / When the results are rendered / Then they are identical
    assert BENCHMARKS_DOC.read_text(encoding="utf-8") == render(RESULTS_DIR), (
        "docs/benchmarks.md is stale or was edited by hand: run `python -m bench.report`"
    )
