"""The report is honest about where each figure comes from and what it shows: every section names
its own commit, a dirty tree's figures never reach the published record, and a tie reads "tie"."""

from __future__ import annotations

from pathlib import Path

from bench.docgen import BEGIN, END, generated_block
from bench.figures import figure
from bench.report import NO_VERDICT, judgement, render, render_quality_goals, write_report
from recs.evaluation import PairedDifference
from tests.unit.bench.builders import (
    CLEAN,
    DIRTY,
    OTHER_CLEAN,
    result,
    tied_quality,
    timing,
    won_quality,
    write,
)


def _section(text: str, area: str) -> str:
    """The text of one ``## area`` section of a rendered report."""
    return text.split(f"\n## {area}\n", 1)[1].split("\n## ", 1)[0]


def test_each_section_names_the_commit_its_own_benchmark_ran_on(tmp_path: Path) -> None:
    # Given two results files from two different commits
    results = write(
        tmp_path,
        result("ingest_throughput", "Ingest", [timing()], git=CLEAN),
        result(
            "als_quality",
            "Quality: MovieLens 100K",
            [won_quality("Quality: MovieLens 100K")],
            git=OTHER_CLEAN,
        ),
    )
    # When the published report is rendered
    text = render(results)
    # Then each section names its own commit, and the goals table gives each row's commit
    assert "commit `111111111111`" in _section(text, "Ingest")
    assert "commit `222222222222`" in _section(text, "Quality: MovieLens 100K")
    assert "222222222222" not in _section(text, "Ingest")
    goals = _section(text, "Goals")
    assert "| Ingest | throughput |" in goals
    assert "| 111111111111 |" in goals
    assert "| 222222222222 |" in goals
    # And no single commit is claimed for the whole document ahead of the sections
    assert "111111111111" not in text.split("\n## ", 1)[0]


def test_a_dirty_tree_section_is_refused_in_the_published_report(tmp_path: Path) -> None:
    # Given a clean result and one that ran from a work tree with uncommitted changes
    dirty = timing("Serving", met=True)
    dirty["name"] = "cache hit p95"
    results = write(
        tmp_path,
        result("ingest_throughput", "Ingest", [timing()], git=CLEAN),
        result("serving", "Serving", [dirty], git=DIRTY),
    )
    # When the published report (docs/) is rendered
    text = render(results, published=True)
    # Then the dirty section is refused without its figures, and its goals are withheld
    serving = _section(text, "Serving")
    assert (
        "**Refused**: this section ran from a dirty tree; re-run `make bench` from a clean checkout"
        in serving
    )
    assert "cache hit p95" not in text
    assert "Refused, figures withheld (see their sections): Serving." in _section(text, "Goals")
    # And the clean one is shown as usual
    assert "| throughput | 60,000 events/s |" in _section(text, "Ingest")


def test_a_result_that_cannot_vouch_for_its_tree_is_refused_too(tmp_path: Path) -> None:
    # Given a result whose git stamp could not tell whether the tree was clean (git missing)
    results = write(tmp_path, result("ingest_throughput", "Ingest", [timing()], git={"commit": None}))
    # When the published report is rendered / Then it is refused: it names no clean commit
    assert "**Refused**: this section does not name a clean commit" in render(results)


def test_the_quick_report_shows_a_dirty_section_and_marks_it(tmp_path: Path) -> None:
    # Given a quick result from a dirty tree
    results = write(tmp_path, result("serving", "Serving", [timing("Serving")], git=DIRTY, mode="quick"))
    # When the report is rendered for a path outside docs/
    text = render(results, published=False)
    # Then its figures are shown and the section says where they came from
    serving = _section(text, "Serving")
    assert "| throughput | 60,000 events/s |" in serving
    assert "commit `333333333333` **from a work tree with uncommitted changes**" in serving
    assert "| 333333333333 (uncommitted changes, quick mode) |" in _section(text, "Goals")


def test_a_tie_reads_tie_never_met(tmp_path: Path) -> None:
    # Given a quality goal ahead on the point estimates but tied on its paired interval
    tied = tied_quality()
    results = write(tmp_path, result("als_quality", "Quality: test shop", [tied], git=CLEAN))
    # When the report is rendered
    text = render(results)
    # Then both the goals table and the section read "tie", and no table cell reads "met"
    assert "| >= implicit ALS | **tie** | 111111111111 |" in _section(text, "Goals")
    assert "| >= implicit ALS | **tie** |" in _section(text, "Quality: test shop")
    assert "| **met** |" not in text


def test_the_verdict_wins_over_the_boolean_and_timings_keep_theirs() -> None:
    # Given a tie whose boolean was (wrongly) left True, a timing, and a legacy quality row
    tied = tied_quality()
    tied["met"] = True
    legacy = figure(
        "Quality: old",
        "NDCG@10",
        0.2049,
        "",
        baseline="implicit ALS",
        baseline_value=0.2046,
        goal=">= implicit ALS",
        met=True,
        # What results written before verdicts hold: the interval only as the note's text
        note=PairedDifference(0.0004, -0.0025, 0.0033, 0.95, 943, 2000).describe(),
    )
    tied_without_verdict = tied_quality()
    del tied_without_verdict["verdict"]
    # When each is judged
    # Then the verdict (or its interval) decides; a timing reads its boolean; the legacy row has no verdict
    assert judgement(tied) == "tie"
    assert judgement(tied_without_verdict) == "tie"
    assert judgement(timing(met=False)) == "not met"
    assert judgement(legacy) == NO_VERDICT
    assert judgement(figure("Area", "no goal", 1.0, "s")) is None


def test_the_training_block_lists_every_quality_goal_with_its_verdict_and_commit(tmp_path: Path) -> None:
    # Given quality results of two registered benchmarks, and a timing
    results = write(
        tmp_path,
        result(
            "als_quality", "Quality: MovieLens 100K", [tied_quality("Quality: MovieLens 100K")], git=CLEAN
        ),
        result("product_quality", "Quality: product", [won_quality("Quality: product")], git=OTHER_CLEAN),
        result("ingest_throughput", "Ingest", [timing()], git=CLEAN),
    )
    # When the block is rendered
    block = render_quality_goals(results)
    # Then every quality goal is a row with its verdict, interval and commit; timings stay out
    assert "| Quality: MovieLens 100K | NDCG@10, recs |" in block
    assert "| **tie** | difference +0.0020, 95% CI [-0.0188, +0.0244]" in block
    assert "| 111111111111 |" in block
    assert "| Quality: product | NDCG@10, recs vs popularity |" in block
    assert "| **met** |" in block
    assert "| 222222222222 |" in block
    assert "Ingest" not in block
    # And the rows follow the registry's order (the product's path before MovieLens' engines)
    assert block.index("Quality: product") < block.index("MovieLens")


def test_the_training_block_refuses_a_dirty_quality_result(tmp_path: Path) -> None:
    # Given a quality result from a dirty tree
    results = write(tmp_path, result("shop_quality", "Quality: synthetic shop", [won_quality()], git=DIRTY))
    # When the block is rendered / Then its figures are withheld and the refusal says why
    block = render_quality_goals(results)
    assert "NDCG@10" not in block
    assert "Quality: synthetic shop: **Refused**: this section ran from a dirty tree" in block


def test_a_quick_report_leaves_the_training_doc_alone(tmp_path: Path) -> None:
    # Given results and a training doc with a generated block
    results = write(
        tmp_path / "results", result("als_quality", "Quality: q", [won_quality("Quality: q")], git=DIRTY)
    )
    training = tmp_path / "training.md"
    original = f"prose\n\n{BEGIN}\nold\n{END}\n"
    training.write_text(original)
    # When the report is written outside docs/ (as make bench-quick does)
    write_report(results, tmp_path / "quick" / "benchmarks.md", training_doc=training)
    # Then the quick report shows the dirty section, and the training doc is untouched
    assert "NDCG@10" in (tmp_path / "quick" / "benchmarks.md").read_text()
    assert training.read_text() == original
    assert generated_block(original) == "old\n"
