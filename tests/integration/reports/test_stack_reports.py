"""Reports of the local stack: two trained versions, real served log lines, attributed events."""

from __future__ import annotations

import json
import random
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from recs_tools.local.demo import run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.reports import REPORTS_PREFIX, local_stack_source, write_local_reports
from recs_tools.local.stack import LocalStack
from recs_tools.reports.sources import served_id

EXPERIMENT = [
    {
        "name": "hp-test",
        "contexts": ["homepage"],
        "variants": [
            {"name": "model", "weight": 50},
            {"name": "popular", "weight": 50, "chains": {"homepage": ["popular"]}},
        ],
    }
]


@pytest.fixture
def experiment_stack() -> Iterator[LocalStack]:
    # INFO, so the recommend function logs its `served` lines as it does in AWS.
    overrides = {"LogLevel": "INFO", "RecommendExperiments": json.dumps(EXPERIMENT)}
    with LocalStack(parameter_overrides=overrides, use_redis=False) as local:
        yield local


def test_reports_compare_versions_and_count_the_experiment_from_logs_and_lake(
    experiment_stack: LocalStack, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stack = experiment_stack
    # What Lambda ships from the function's stdout: its `served` lines, which it writes to the
    # process's standard output (`recs.api.request_record`).
    capfd.readouterr()
    server = LocalApiServer(stack, port=0, static={REPORTS_PREFIX: tmp_path}).start()
    try:
        # Given a shop trained twice, so the second version has a previous one
        demo = run_demo(stack, server.url, preset="test", seed=11, log=lambda _: None)
        assert demo.execution["status"] == "SUCCEEDED"
        assert stack.run_training()["status"] == "SUCCEEDED"
        # And 40 homepage lists served over HTTP, of which a seeded fifth were clicked
        rng = random.Random(7)
        users = demo.shop.users[:40]
        served = [
            http_call(server.url, "GET", f"/api/recommendations?userId={u}&limit=5").body for u in users
        ]
        clicked = [body for body in served if rng.random() < 0.2]
        events = [
            {
                "eventId": str(uuid.UUID(int=rng.getrandbits(128))),
                "eventType": "click",
                "timestamp": datetime.now(UTC).isoformat(),
                "userId": "shopper",
                "productId": body["products"][0]["id"],
                "recommendationId": body["recommendationId"],
                "context": "homepage",
            }
            for body in clicked
        ]
        assert http_call(server.url, "POST", "/api/events", {"events": events}).status == 202
        # And the function's served lines in its log group, as Lambda would ship its stdout
        lines = [line for line in capfd.readouterr().out.splitlines() if served_id(line)]
        logs, group = stack.client("logs"), stack.physical["RecommendLogGroup"]
        logs.create_log_stream(logGroupName=group, logStreamName="test")
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        logs.put_log_events(
            logGroupName=group,
            logStreamName="test",
            logEvents=[{"timestamp": now_ms, "message": line} for line in lines],
        )

        # When the reports are written into the folder the server mounts
        index = write_local_reports(stack, tmp_path)

        # Then there is a page per version, the latest (serving) one compares with the first
        versions = local_stack_source(stack).versions()
        assert len(versions) == 2
        latest = (tmp_path / "model-latest.html").read_text()
        assert versions[1] in latest
        assert f"previous ({versions[0]})" in latest
        assert "(serving)" in latest
        # And the experiment page counts the 40 lists and the clicked ones per variant
        page = (tmp_path / "experiments.html").read_text()
        assert "Experiment hp-test · context homepage" in page
        assert len(lines) >= len(users)
        assert f"<b>{len(clicked)}</b><span>lists clicked" in page
        assert "<b>0</b><span>lists with events but no served line" in page
        # And the local server serves them
        with urllib.request.urlopen(server.url + REPORTS_PREFIX + index.name, timeout=10) as response:
            assert response.status == 200
            assert "latest model version" in response.read().decode()
    finally:
        server.stop()
