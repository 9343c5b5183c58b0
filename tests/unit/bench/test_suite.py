"""The benchmark suite's own machinery: every registered benchmark is runnable, figures carry
their ratio, and the report is built from the results files alone."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

from bench.figures import figure, percentiles_ms
from bench.registry import BENCHMARKS, by_name
from bench.report import render


def test_every_registered_benchmark_has_a_run_and_a_cli_with_quick(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the registry
    names = [b.name for b in BENCHMARKS]
    # Then names are unique, and each module exposes run(quick) and a main accepting --quick
    assert len(names) == len(set(names))
    for benchmark in BENCHMARKS:
        module = importlib.import_module(benchmark.module)
        assert next(iter(inspect.signature(module.run).parameters)) == "quick"
        with pytest.raises(SystemExit) as exited:
            module.main(["--help"])
        assert exited.value.code == 0
        assert "--quick" in capsys.readouterr().out, f"{benchmark.name} takes --quick"
        assert benchmark.description(), f"{benchmark.name} documents how it measures"


def test_unknown_benchmark_names_are_refused() -> None:
    # Given / When an unknown name is asked for / Then the error names the known ones
    with pytest.raises(ValueError, match="serving"):
        by_name(["no-such-benchmark"])


def test_a_figure_carries_the_ratio_to_its_baseline() -> None:
    # Given a value and its baseline / When a figure is made / Then the ratio is value / baseline
    made = figure("Area", "x", 3.0, "s", baseline="b", baseline_value=2.0, goal="<= 2 x b", met=True)
    assert made["ratio"] == 1.5
    assert figure("Area", "x", 3.0, "s")["ratio"] is None


def test_percentiles_use_every_sample() -> None:
    # Given 100 samples of 1..100 ms / When summarised / Then p50 and p95 are those samples
    summary = percentiles_ms([n / 1000 for n in range(1, 101)])
    assert summary["n"] == 100
    assert summary["p50Ms"] == pytest.approx(50.0, abs=1.0)
    assert summary["p95Ms"] == pytest.approx(95.0, abs=1.0)


def test_the_report_lists_every_figure_with_its_goal_and_the_machine(tmp_path: Path) -> None:
    # Given one results file and a suite file as `python -m bench` writes them
    result = {
        "benchmark": "ingest_throughput",
        "area": "Ingest",
        "summary": "events per second",
        "mode": "quick",
        "status": "ok",
        "startedAt": "2026-01-01T00:00:00Z",
        "wallSeconds": 1.0,
        "loadAverage1m": {"before": 0.1, "after": 0.2},
        "machine": {
            "cpu": "Test CPU",
            "cores": 2,
            "packages": {"numpy": "2"},
            "git": {"commit": "abc", "uncommittedChanges": False},
        },
        "command": "python -m bench --only ingest_throughput",
        "seeds": {"shop": 42},
        "figures": [
            figure(
                "Ingest",
                "throughput",
                60_000.0,
                "events/s",
                baseline="floor",
                baseline_value=120_000.0,
                goal=">= 50,000",
                met=True,
            ),
        ],
    }
    (tmp_path / "ingest_throughput.json").write_text(json.dumps(result))
    (tmp_path / "suite.json").write_text(
        json.dumps({"command": "make bench-quick", "startedAt": "2026-01-01T00:00:00Z", "wallSeconds": 90.0})
    )
    # When the report is rendered
    text = render(tmp_path)
    # Then it names the machine, the run time, and the figure with baseline, ratio, goal and verdict
    assert "Test CPU" in text
    assert "1.5 minutes" in text
    assert "| throughput | 60,000 events/s | floor | 120,000 events/s | 0.5 | >= 50,000 | **met** |" in text
