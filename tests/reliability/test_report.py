"""docs/reliability.md is what bench/reliability/report.py renders from the committed results."""

from __future__ import annotations

import json
from pathlib import Path

from bench.environment import REPO_ROOT
from bench.reliability.report import render

RESULTS = Path("bench") / "results" / "reliability.json"


def test_the_committed_page_is_rendered_from_the_committed_figures() -> None:
    # Given the committed results of `make reliability`
    result = json.loads((REPO_ROOT / RESULTS).read_text(encoding="utf-8"))
    # When the page is rendered from them
    page = render(result, RESULTS)
    # Then it is the committed page (regenerate: python -m bench.reliability --render-only), and it
    # states the figures the issue asks for
    assert (REPO_ROOT / "docs" / "reliability.md").read_text(encoding="utf-8") == page
    assert f"| **server errors (5xx)** | **{result['fuzz']['serverErrors']}** |" in page
    for run in result["load"]:
        assert f"| {run['requests']} | {run['requestsPerSecond']} |" in page
    assert f"**{result['lake']['validEventsInLake']}**" in page
    assert result["measuredAt"] in page
