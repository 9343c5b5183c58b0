"""`python -m bench --full` writes the committed record, so it refuses a dirty work tree;
`--quick` writes under build/ and may run from one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as suite
from bench.__main__ import REFUSED, default_paths, dirty_tree_refusal, git_across, main
from bench.environment import PATIENCE_VARIABLE
from bench.registry import Benchmark
from tests.unit.bench.builders import DIRTY, result, timing

CHANGES = [" M bench/report.py", "M  docs/training.md", "R  old.py -> layers/new.py"]


def test_a_dirty_tree_is_refused_with_the_changed_files() -> None:
    # Given porcelain status lines of changed tracked files
    # When the refusal is asked for
    message = dirty_tree_refusal(CHANGES)
    # Then it names every changed file and the way out
    assert message is not None
    for path in ("bench/report.py", "docs/training.md", "old.py -> layers/new.py"):
        assert f"  {path}\n" in message
    assert "make bench-quick" in message


def test_a_clean_tree_may_run_and_an_unknown_one_may_not() -> None:
    # Given a clean status, and git unable to answer / Then only the clean one may run
    assert dirty_tree_refusal([]) is None
    unknown = dirty_tree_refusal(None)
    assert unknown is not None
    assert "cannot tell" in unknown


def test_a_full_run_from_a_dirty_tree_exits_2_before_running_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a work tree with uncommitted changes, and a benchmark runner that must not be called
    monkeypatch.setattr(suite, "work_tree_changes", lambda: list(CHANGES))

    def must_not_run(*args: object) -> dict[str, object]:
        raise AssertionError("a refused run ran a benchmark")

    monkeypatch.setattr(suite, "run_one", must_not_run)
    results = tmp_path / "results"
    # When a full run is started
    status = main(["--full", "--results", str(results), "--doc", str(tmp_path / "doc.md")])
    # Then it exits with 2, names the changed files on stderr, and writes nothing (no traceback)
    assert status == REFUSED == 2
    err = capsys.readouterr().err
    assert "refuses to run from a work tree with uncommitted changes" in err
    assert "bench/report.py" in err
    assert "Traceback" not in err
    assert not results.exists()
    assert not (tmp_path / "doc.md").exists()


def test_a_quick_run_from_a_dirty_tree_goes_ahead_and_its_report_marks_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a dirty tree, and a benchmark that reports one timing from it
    monkeypatch.setenv(PATIENCE_VARIABLE, "1")  # main sets it for its benchmarks: restored afterwards
    monkeypatch.setattr(suite, "work_tree_changes", lambda: list(CHANGES))
    monkeypatch.setattr(suite, "describe_machine", lambda: {"cpu": "Test CPU", "git": DIRTY})

    def run_one(benchmark: Benchmark, quick: bool, machine: dict[str, Any]) -> dict[str, Any]:
        return result(benchmark.name, benchmark.area, [timing(benchmark.area)], git=DIRTY, mode="quick")

    monkeypatch.setattr(suite, "run_one", run_one)
    doc = tmp_path / "quick" / "benchmarks.md"
    # When a quick run writes outside docs/
    status = main(
        ["--quick", "--only", "ingest_throughput", "--results", str(tmp_path / "r"), "--doc", str(doc)]
    )
    # Then it ran, and its report shows the figure and says it came from a dirty tree
    assert status == 0
    text = doc.read_text()
    assert "| throughput | 60,000 events/s |" in text
    assert "**from a work tree with uncommitted changes**" in text


def test_only_a_full_run_writes_the_committed_record_by_default() -> None:
    # Given the two modes / Then a full run defaults to bench/results and docs/, a quick one to build/
    results, doc = default_paths(full=True)
    assert results.parts[-2:] == ("bench", "results")
    assert doc.parts[-2:] == ("docs", "benchmarks.md")
    results, doc = default_paths(full=False)
    assert results.parts[-2:] == ("build", "bench-quick")
    assert doc.parent == results


def test_a_benchmark_is_clean_only_if_the_tree_stayed_clean_while_it_ran() -> None:
    # Given git stamps before and after one benchmark
    clean = {"commit": "a" * 40, "uncommittedChanges": False}
    moved = {"commit": "b" * 40, "uncommittedChanges": False}
    edited = {"commit": "a" * 40, "uncommittedChanges": True}
    # Then an unchanged tree keeps its stamp, and a commit or an edit meanwhile marks it dirty
    assert git_across(clean, clean) == clean
    assert git_across(clean, moved)["uncommittedChanges"] is True
    assert git_across(clean, edited) == {**clean, "uncommittedChanges": True, "changedDuringRun": edited}


def test_the_suites_own_outputs_do_not_make_the_tree_dirty(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given git reporting a rewritten result, a regenerated doc and a changed module
    import bench.environment as environment

    status = "".join(
        line + "\n"
        for line in (" M bench/results/serving.json", " M docs/benchmarks.md", "R  docs/a.md -> docs/b.md")
    )
    status += " M bench/serving.py\n"
    monkeypatch.setattr(environment, "_git", lambda *args: status)
    # When the changes that matter are listed / Then only the module is (a full run writes each
    # benchmark's results before the next one starts)
    assert environment.work_tree_changes() == [" M bench/serving.py"]
