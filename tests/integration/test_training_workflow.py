"""The real state machine definition, executed by moto, with Lambda tasks on the real handler."""

from __future__ import annotations

from typing import Any

import pytest

from recs.local.stack import LocalStack
from recs.storage import POINTER_KEY
from recs.synthetic import build_config, generate_shop, iter_batches
from tests.helpers import body_of


def _ingest_test_shop(stack: LocalStack, seed: int = 3) -> None:
    from datetime import UTC, datetime

    shop = generate_shop(build_config("test", seed=seed, now=datetime.now(UTC).replace(microsecond=0)))
    import json

    from recs.local.http import build_http_api_event

    for batch in iter_batches(shop.events, size=500):
        event = build_http_api_event(
            method="POST",
            raw_path="/api/events",
            raw_query="",
            headers={"content-type": "application/json"},
            body=json.dumps({"events": batch}).encode(),
            route_path="/api/events",
            path_parameters={},
        )
        response = stack.invoke("IngestFunction", event)
        assert response["statusCode"] in (202, 207), response


def _pointer(stack: LocalStack) -> dict[str, Any] | None:
    item = (
        stack.client("dynamodb")
        .get_item(
            TableName=stack.physical["ModelTable"],
            Key={"pk": {"S": POINTER_KEY[0]}, "sk": {"S": POINTER_KEY[1]}},
        )
        .get("Item")
    )
    return {k: next(iter(v.values())) for k, v in item.items()} if item else None


def test_a_scheduled_run_publishes_and_flips_the_pointer(stack: LocalStack) -> None:
    # Given a lake holding a small shop's events
    _ingest_test_shop(stack)
    # When the training state machine runs
    execution = stack.run_training()
    # Then it succeeds, the pointer names the new version, and it went through every step
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    pointer = _pointer(stack)
    assert pointer is not None
    assert pointer["modelVersion"].startswith("v")
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in stack.execution_history(execution["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    for state in ("Prepare", "Train", "Evaluate", "Gate", "Publish", "Flip", "Cleanup", "Done"):
        assert state in entered


def test_a_crashed_run_leaves_the_previous_version_serving(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version
    _ingest_test_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    before = _pointer(stack)
    # When the next run crashes in its train step
    pipeline = stack.function("TrainFunction").module.pipeline

    def crash(job: dict[str, Any]) -> dict[str, Any]:
        raise MemoryError("simulated crash")

    monkeypatch.setattr(pipeline, "train", crash)
    execution = stack.run_training()
    # Then it fails through the Catch path (failure recorded, alert sent) and the pointer is unchanged
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "TrainingFailed"
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in stack.execution_history(execution["executionArn"])
        if "stateEnteredEventDetails" in e
    ]
    assert {"RecordFailure", "NotifyFailure", "Failed"} <= set(entered)
    assert _pointer(stack) == before
    # And shoppers are still served from the previous version
    from tests.helpers import load_event

    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == before["modelVersion"]  # type: ignore[index]
