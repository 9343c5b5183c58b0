"""The Prepare benchmark's account of its peak (bench.prepare_speed): where the memory was once
every event was read, and the room the memory goal leaves malloc's heap beside the rest."""

from __future__ import annotations

from bench.prepare_speed import GOAL_BYTES_PER_EVENT, _peak_parts


def test_the_room_the_goal_leaves_the_heap_is_the_goal_less_the_files_and_maps() -> None:
    # Given a run of 1M events whose reading ended with 9 MiB of files, 28 of maps, 16 of heap
    run = {
        "events": 1_000_000,
        "residentMiB": {
            "first": {"files": 8.8, "heap": 10.8, "maps": 1.2},
            "read": {"files": 9.0, "heap": 16.0, "maps": 28.0},
        },
    }
    # When its peak is told
    told = _peak_parts(run)
    # Then it names each part and the heap's room under the goal: 40 bytes x 1M = 38.1 MiB, less 37
    assert GOAL_BYTES_PER_EVENT == 40
    assert "9.0 MiB of mapped files" in told
    assert "28.0 MiB of other maps" in told
    assert "16.0 MiB of malloc's heap, which held 10.8 MiB after the first object" in told
    assert told.endswith("the goal leaves the heap 1.1 MiB beside the files and maps")


def test_results_from_before_the_parts_were_measured_say_so() -> None:
    # Given a run recorded without the parts
    # When its peak is told
    # Then it says they were not measured
    assert _peak_parts({"events": 1_000_000}) == "the parts of the peak not measured"
