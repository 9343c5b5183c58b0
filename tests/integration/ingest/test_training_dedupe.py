"""A re-sent event is stored twice in the lake but counted once by training's prepare step."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from recs_tools.local.stack import LocalStack
from tests.integration.ingest.lake import flaky_firehose, lake_records, post


def _events(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "eventId": f"5a000000-0000-4000-8000-{i:012d}",
            "eventType": ["view", "click", "add_to_cart", "purchase"][i % 4],
            "timestamp": now,
            "userId": f"user_{i % 7:06d}",
            "sessionId": f"sess_{i % 5}",
            "productId": f"sku_{i % 13:05d}",
        }
        for i in range(n)
    ]


def _prepare(stack: LocalStack) -> dict[str, Any]:
    job = {"executionName": "dedupe", "startedAt": datetime.now(UTC).isoformat()}
    result: dict[str, Any] = stack.invoke("PrepareFunction", {"step": "prepare", "job": job})
    return result


def test_a_resent_batch_is_counted_once_by_training(stack: LocalStack) -> None:
    # Given a batch of 120 events that the client sent twice (e.g. it never saw the first answer)
    events = _events(120)
    assert post(stack, {"events": events})["statusCode"] == 202
    assert post(stack, {"events": events})["statusCode"] == 202
    assert len(lake_records(stack)) == 240
    # When training prepares its interactions from the lake
    stats = _prepare(stack)["stats"]
    # Then each event counts once: the copies are dropped as duplicates
    assert stats["duplicatesDropped"] == 120
    assert stats["interactions"] == 120


def test_a_batch_resent_after_a_503_mid_delivery_is_counted_once(stack: LocalStack) -> None:
    # Given a Firehose that keeps failing 70% of the records of every call
    events = _events(500)
    with flaky_firehose(failure_rate=0.7, failing_calls=10**6, seed=8):
        first = post(stack, {"events": events})
    # Then once the retries are spent the client is told to retry, though part of the batch is stored
    assert first["statusCode"] == 503
    stored_before = len(lake_records(stack))
    assert 0 < stored_before < 500
    # When it re-sends the whole batch
    assert post(stack, {"events": events})["statusCode"] == 202
    # Then training counts every event exactly once
    stats = _prepare(stack)["stats"]
    assert stats["duplicatesDropped"] == stored_before
    assert stats["interactions"] == 500
