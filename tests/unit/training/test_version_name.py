"""Model version names: sortable by time, even for runs started in the same second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recs.training.prepare_step import version_name


def test_versions_of_runs_started_in_the_same_second_sort_by_time() -> None:
    # Given three runs started 1 ms apart across a second boundary, from executions whose
    # hashes sort the other way round (a -> ca9781, b -> 3e23e8, c -> 2e7d2c)
    start = datetime(2026, 11, 26, 3, 0, 0, 998_000, tzinfo=UTC)
    names = [version_name(start + timedelta(milliseconds=i), name) for i, name in enumerate("abc")]
    # When sorted by name
    ordered = sorted(names)
    # Then the order is the order they started in, and each names its execution distinctly
    assert ordered == names
    assert names[0].startswith("v20261126T030000.998Z-")
    assert names[2].startswith("v20261126T030001.000Z-")
    assert len(set(names)) == 3
