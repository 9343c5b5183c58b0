"""Chart details that depend on the names the pipeline gives versions."""

from __future__ import annotations

import base64

from recs_tools.reports.plots import history_chart


def test_the_history_chart_labels_versions_by_their_time_without_the_hash() -> None:
    # Given two versions named to the millisecond (the pipeline's names) and an offline one
    versions = ["v20261125T030000.000Z-5a1e2f", "v20261126T030000.123Z-1a2b3c", "offline-20261031T205950Z"]
    # When their history is drawn
    uri = history_chart(versions, [0.30, 0.31, None], [0.15, 0.15, None])
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    # Then each tick carries the whole time, milliseconds included, and no execution hash
    for label in ("v20261125T030000.000Z", "v20261126T030000.123Z", "offline-20261031T205950Z"):
        assert label in svg
    assert "1a2b3c" not in svg
