"""Injected Firehose failures: every valid event sent is in the lake exactly once, or the client is told."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from recs_tools.local.stack import LocalStack
from tests.helpers import body_of
from tests.integration.ingest.lake import firehose_down, flaky_firehose, lake_records, post


def _events(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # reproducible event ids
    now = datetime.now(UTC).isoformat()
    return [
        {
            "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "eventType": "view",
            "timestamp": now,
            "userId": f"user_{i % 37:06d}",
            "sessionId": f"sess_{i % 11}",
            "productId": f"sku_{i % 101:05d}",
            "category": "cat_toys",
            "context": "product-page",
        }
        for i in range(n)
    ]


def test_partial_failures_are_retried_and_every_event_lands_exactly_once(stack: LocalStack) -> None:
    # Given a Firehose that fails about 40% of the records of its first three calls
    events = _events(500, seed=1)
    with flaky_firehose(failure_rate=0.4, failing_calls=3, seed=2) as failed:
        # When a batch of 500 events is posted
        response = post(stack, {"events": events})
    # Then it is accepted, some records really failed on the way, and each event is in the lake once
    assert response["statusCode"] == 202
    assert body_of(response)["accepted"] == 500
    assert failed[0] > 0
    stored = Counter(r["eventId"] for r in lake_records(stack))
    assert stored == Counter(e["eventId"] for e in events)


def test_partial_failures_across_many_requests_lose_and_duplicate_nothing(stack: LocalStack) -> None:
    # Given a Firehose failing a quarter of the records of its first ten calls
    events = _events(2000, seed=3)
    with flaky_firehose(failure_rate=0.25, failing_calls=10, seed=4):
        # When four batches are posted
        for start in range(0, 2000, 500):
            assert post(stack, {"events": events[start : start + 500]})["statusCode"] == 202
    # Then the count of valid events sent equals the count of records in the lake, each exactly once
    records = lake_records(stack)
    assert len(records) == 2000
    assert Counter(r["eventId"] for r in records) == Counter(e["eventId"] for e in events)


def test_an_outage_answers_503_with_retry_after_and_a_resend_lands_once(stack: LocalStack) -> None:
    # Given a Firehose that is down
    events = _events(50, seed=5)
    with firehose_down():
        # When a batch is posted
        response = post(stack, {"events": events})
    # Then the client is told to retry (503, Retry-After), never a 2xx, and nothing was stored
    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) > 0
    assert "retry" in body_of(response)["message"]
    assert lake_records(stack) == []
    # And when the client re-sends after Firehose is back, each event lands exactly once
    assert post(stack, {"events": events})["statusCode"] == 202
    assert Counter(r["eventId"] for r in lake_records(stack)) == Counter(e["eventId"] for e in events)


def test_records_failing_until_the_last_attempt_answer_503(stack: LocalStack) -> None:
    # Given a Firehose that fails every record of every call
    with flaky_firehose(failure_rate=1.0, failing_calls=10**6, seed=6):
        # When an event is posted / Then the answer is 503, not a 2xx that lost it
        response = post(stack, {"events": _events(3, seed=7)})
    assert response["statusCode"] == 503
    assert lake_records(stack) == []
