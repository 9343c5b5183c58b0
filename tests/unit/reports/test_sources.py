"""Reading the reports' data: served log lines (CloudWatch Logs under moto) and offline outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from recs.store_layout import encode_items, version_meta_key, version_sk
from recs_tools.memory_objects import MemoryObjects
from recs_tools.reports.model_report import VersionRecord
from recs_tools.reports.sources import (
    CloudWatchServedLog,
    OfflineSource,
    ReportError,
    StackSource,
    count_products,
    names_from_cloudformation,
    served_id,
    training_window,
)
from tests.unit.privacy.fakes import MemoryTable

SERVED = (
    '{"level":"INFO","message":"served","service":"recommend","recommendationId":"r1:homepage:user:-:-:%s"}'
)


def test_served_id_reads_only_served_lines() -> None:
    # Given a served line (with Lambda's prefix before the JSON), another log line and noise
    # Then only the served line yields its recommendationId
    line = "2026-11-26T09:00:00Z abc INFO " + SERVED % ("0" * 16)
    assert served_id(line) == "r1:homepage:user:-:-:" + "0" * 16
    assert served_id('{"message": "not served", "recommendationId": "x"}') is None
    assert served_id("START RequestId: 1") is None
    assert served_id("{broken") is None


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("logs", region_name="eu-west-1")
        client.create_log_group(logGroupName="/aws/lambda/recommend")
        client.create_log_stream(logGroupName="/aws/lambda/recommend", logStreamName="s")
        yield client


def test_cloudwatch_served_log_reads_the_served_lines_of_the_period(logs: Any) -> None:
    # Given three served lines and one other line an hour ago, and one served line two days ago
    now = datetime.now(UTC)
    stamp = int((now - timedelta(hours=1)).timestamp() * 1000)
    old = int((now - timedelta(days=2)).timestamp() * 1000)
    events = [{"timestamp": old, "message": SERVED % f"{99:016x}"}]
    events += [{"timestamp": stamp, "message": SERVED % f"{n:016x}"} for n in range(3)]
    events += [{"timestamp": stamp, "message": '{"message": "not served"}'}]
    logs.put_log_events(logGroupName="/aws/lambda/recommend", logStreamName="s", logEvents=events)
    # When the last day's served ids are read
    found = list(CloudWatchServedLog("/aws/lambda/recommend", logs).served_ids(now - timedelta(days=1), now))
    # Then exactly the three recent served lines are found
    assert sorted(found) == [f"r1:homepage:user:-:-:{n:016x}" for n in range(3)]


def test_popularity_counts_product_events_inside_the_training_window() -> None:
    # Given a version generated on Nov 20 with a 10-day window, and events before, in and after it
    record = VersionRecord(
        "v", {"generatedAt": "2026-11-20T00:00:00Z"}, {"parameters": {"training_window_days": 10}}
    )
    window = training_window(record)
    events = [
        {"productId": "a", "timestamp": "2026-11-01T00:00:00Z"},
        {"productId": "a", "timestamp": "2026-11-15T00:00:00Z"},
        {"productId": "b", "timestamp": "2026-11-15T00:00:00+00:00"},
        {"productId": "b", "timestamp": "2026-11-19T23:00:00Z"},
        {"eventType": "search", "timestamp": "2026-11-15T00:00:00Z"},
        {"productId": "c", "timestamp": "2026-11-21T00:00:00Z"},
    ]
    # When counted
    assert window is not None
    counts = count_products(events, *window)
    # Then only the window's product events count
    assert counts == {"a": 1, "b": 2}


def test_offline_source_reads_what_recs_train_wrote(tmp_path: Path) -> None:
    # Given the outputs of an offline run and its events file
    (tmp_path / "evaluation.json").write_text(
        json.dumps(
            {"modelVersion": "offline-1", "generatedAt": "2026-11-20T00:00:00Z", "model": {"ndcg": 0.2}}
        )
    )
    lines = [{"userId": f"u{n}", "products": [{"id": "a", "score": 0.5, "reason": "x"}]} for n in range(3)]
    (tmp_path / "recommendations.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"productId": "a", "timestamp": "2026-11-19T00:00:00Z"}) + "\n")
    source = OfflineSource(tmp_path, events)
    # When read
    record = source.record(source.versions()[0])
    # Then the version, a bounded number of lists and the popularity come back
    assert source.versions() == ["offline-1"]
    assert source.lists("offline-1", limit=2) == [[("a", 0.5)], [("a", 0.5)]]
    assert source.popularity(record) == {"a": 1}


def test_offline_source_without_outputs_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="run `recs train"):
        OfflineSource(tmp_path)


class _CloudFormation:
    """describe_stacks / describe_stack_resource of a deployed stack (or of none)."""

    def __init__(self, outputs: dict[str, str] | None) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        if self.outputs is None:
            raise RuntimeError(f"Stack with id {StackName} does not exist")
        return {
            "Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}]
        }

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:
        return {"StackResourceDetail": {"PhysicalResourceId": f"/recs/{StackName}/recommend"}}


def test_a_deployed_stacks_names_come_from_its_outputs_and_resources() -> None:
    # Given a stack with the template's outputs
    outputs = {"ModelTableName": "models", "ArtifactBucketName": "artifacts", "EventLakeBucketName": "lake"}
    # When its names are read / Then they are the outputs, and the recommend log group's name
    names = names_from_cloudformation("recs-prod", _CloudFormation(outputs))
    assert (names.model_table, names.artifact_bucket, names.lake_bucket) == ("models", "artifacts", "lake")
    assert names.recommend_log_group == "/recs/recs-prod/recommend"


def test_an_absent_or_foreign_stack_is_refused_saying_what_to_check() -> None:
    # Given no such stack, then a stack without this project's outputs
    # When their names are read / Then each is refused with what to do
    with pytest.raises(ReportError, match="check the name, the region"):
        names_from_cloudformation("nope", _CloudFormation(None))
    with pytest.raises(ReportError, match="is it this project's stack"):
        names_from_cloudformation("other", _CloudFormation({"ApiUrl": "https://x"}))


def test_an_imported_versions_lists_are_sampled_from_its_own_table() -> None:
    # Given a version whose users' rows were imported into a table its META names, and a stray
    # row of it in the model table
    model, imported = MemoryTable(), MemoryTable()
    model.put({"pk": version_meta_key("v1")[0], "sk": "META", "listsTable": "recs-lists-v1"})
    model.put({"pk": "U#stray", "sk": version_sk("v1"), "d": encode_items([("sku_x", 1.0, None)])})
    imported.put({"pk": "U#p", "sk": version_sk("v1"), "d": encode_items([("sku_1", 0.5, None)])})
    source = StackSource(
        model_table=model,
        artifacts=MemoryObjects(),
        lake=MemoryObjects(),
        lake_prefix="events/",
        served=None,
        label="test",
        lists_table={"recs-lists-v1": imported}.__getitem__,
    )
    # Then the report's sample comes from that table
    assert source.lists("v1", limit=5) == [[("sku_1", 0.5)]]
