"""Valid events sent vs records in the lake, with Firehose failing part of the records of its
calls and then down for a while.

A seeded client posts batches of 500 events (one in 50 invalid on purpose) through the real
ingest function. Through the partial failures the adapter retries only the failed records; a
batch whose records still fail after every attempt, and every batch during the outage, gets 503
with Retry-After, and the client (as the API contract asks) re-sends the whole batch once
Firehose is back. Then the lake is read back: every valid event must be there and none of the
invalid ones. A re-sent batch may have been partly stored the first time: those copies are
counted as duplicates (training drops them by `eventId`).
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from recs_tools.local.stack import LocalStack
from tests.integration.ingest.lake import firehose_down, flaky_firehose, lake_records

BATCH = 500
INVALID_EVERY = 50


def _events(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # reproducible event ids and contents
    now = datetime.now(UTC).isoformat()
    events: list[dict[str, Any]] = []
    for i in range(n):
        event: dict[str, Any] = {
            "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "eventType": rng.choice(("view", "view", "view", "add_to_cart", "purchase")),
            "timestamp": now,
            "userId": f"user_{rng.randrange(500):06d}",
            "sessionId": f"sess_{rng.randrange(200)}",
            "productId": f"sku_{rng.randrange(300):05d}",
            "category": "cat_toys",
            "context": "product-page",
        }
        if i % INVALID_EVERY == INVALID_EVERY - 1:
            event["eventType"] = "teleport"  # not an event type: rejected with a reason
        events.append(event)
    return events


def _status(response: dict[str, Any]) -> int:
    return int(response["statusCode"])


def measure(events_total: int, *, seed: int = 11, failure_rate: float = 0.3) -> dict[str, Any]:
    """Post `events_total` events: the first 60% under partial failures, the next 20% during an
    outage (then re-sent), the rest with Firehose healthy; count what the lake holds."""
    events = _events(events_total, seed)
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    partial_end = int(len(batches) * 0.6)
    outage_end = int(len(batches) * 0.8)
    statuses: Counter[str] = Counter()
    accepted = rejected = resent = 0
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}, use_redis=False) as stack:

        def post(batch: list[dict[str, Any]], phase: str) -> dict[str, Any]:
            nonlocal accepted, rejected
            response: dict[str, Any] = stack.post_events({"events": batch})
            statuses[f"{phase}:{_status(response)}"] += 1
            if _status(response) == 202:
                body = json.loads(response["body"])
                accepted += int(body["accepted"])
                rejected += int(body["rejectedCount"])
            return response

        refused: list[list[dict[str, Any]]] = []
        with flaky_firehose(failure_rate=failure_rate, failing_calls=10**9, seed=seed) as failed:
            for batch in batches[:partial_end]:
                if _status(post(batch, "partial")) != 202:
                    refused.append(batch)
        with firehose_down():
            for batch in batches[partial_end:outage_end]:
                if _status(post(batch, "outage")) != 202:
                    refused.append(batch)
        for batch in refused:  # Retry-After honoured: Firehose is healthy again
            resent += 1
            post(batch, "resent")
        for batch in batches[outage_end:]:
            post(batch, "healthy")
        stored = Counter(str(r["eventId"]) for r in lake_records(stack))
    valid = {e["eventId"] for e in events if e["eventType"] != "teleport"}
    invalid = {e["eventId"] for e in events} - valid
    return {
        "eventsSent": len(events),
        "validEventsSent": len(valid),
        "invalidEventsSent": len(invalid),
        "acceptedAnswers": accepted,
        "rejectedAnswers": rejected,
        "recordsFailedByFirehose": failed[0],
        "batchesAnswered503": len(refused),
        "batchesResent": resent,
        "answers": dict(sorted(statuses.items())),
        "recordsInLake": sum(stored.values()),
        "validEventsInLake": len(valid & set(stored)),
        "lost": len(valid - set(stored)),
        "duplicated": sum(n - 1 for n in stored.values() if n > 1),
        "validEventsSentEqualsDistinctInLake": len(valid) == len(valid & set(stored)),
        "invalidInLake": len(invalid & set(stored)),
        "seed": seed,
        "failureRate": failure_rate,
    }
