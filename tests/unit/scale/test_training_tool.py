"""The training scale tool (recs_tools.scale.training): each stage's own peak, one line per size."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from recs_tools.scale.training import STAGES, WHOLE_STEP, measure_stage, peak_mib, reset_peak, size_row


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="clear_refs is Linux's")
def test_a_reset_peak_forgets_what_was_held_and_released_before_it() -> None:
    # Given a process that held 400 MiB more than it holds now and let it go (the test's worker
    # may hold much else: every figure is taken relative to what it holds)
    held = np.ones(400 * 2**17)  # 400 MiB of float64, touched
    peak_while_held = peak_mib()
    del held
    # When its peak is reset and it holds 40 MiB more
    assert reset_peak()
    holding = peak_mib()
    small = np.ones(40 * 2**17)
    # Then its peak counts the 40 MiB and not the 400 released before
    assert holding + 39 <= peak_mib() < peak_while_held - 300
    del small


def test_a_stage_reports_its_seconds_and_its_own_peak() -> None:
    # Given a small drawn table / When the Evaluate step is measured in this process
    measured = measure_stage("evaluate", 300, 60, 10.0, 1, seed=1)
    # Then it names its seconds and a peak counted from once the table was drawn
    assert set(measured["seconds"]) == {"evaluate"}
    assert measured["peakRssMiB"] > 0
    assert measured["peakCounts"] == "the stage and the table"


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'publish'"):
        measure_stage("publish", 30, 10, 5.0, 1, seed=1)


def test_a_size_is_as_big_as_its_largest_step_and_the_whole_step_is_its_check() -> None:
    # Given each stage's measurement at one size, the whole Train step among them
    def stage(name: str, peak: float, **extra: object) -> dict[str, object]:
        return {
            "interactions": 4_000,
            "seconds": {name: 1.0},
            "peakRssMiB": peak,
            "peakCounts": "the stage and the table",
            **extra,
        }

    peaks = {"signals": 900.0, "fit": 950.0, "search_fit": 300.0, "session_choice": 200.0}
    stages = {name: stage(name, peak) for name, peak in peaks.items()}
    stages["signals"]["nnz"] = 3_900
    stages["train_version"] = stage("train_version", 500.0)
    stages["evaluate"] = stage("evaluate", 400.0)
    stages[WHOLE_STEP] = stage(WHOLE_STEP, 700.0, trainStep={"fits": 3, "stoppedBy": "budget"})
    # When the size's line is made
    row = size_row(100, 40, 2, stages, search_budget=300.0)
    # Then its peak is the largest of the Train step's parts and the Evaluate step (signals and
    # fit are parts of train_version), every stage keeps its own, and the whole step carries its own
    assert row["peakRssMiB"] == 500.0
    assert row["stagePeakRssMiB"] == {**peaks, "train_version": 500.0, "evaluate": 400.0}
    assert row["trainStep"] == {"fits": 3, "stoppedBy": "budget", "peakRssMiB": 700.0}
    assert row["nnz"] == 3_900
    assert row["interactions"] == 4_000


def test_the_tool_prints_one_line_per_size_from_a_process_per_stage() -> None:
    # Given a tiny size / When the tool runs
    done = subprocess.run(
        [sys.executable, "-m", "recs_tools.scale.training", "--sizes", "300x60", "--threads", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    (line,) = done.stdout.splitlines()
    row = json.loads(line)
    # Then every stage has its seconds and its own peak, and no whole step was asked for
    assert set(row["stagePeakRssMiB"]) == set(STAGES)
    assert set(row["seconds"]) == {*STAGES, "rank_all_users"}
    assert "trainStep" not in row
