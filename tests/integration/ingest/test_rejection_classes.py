"""Every rejection class, driven by the sample requests in events/, answers its own clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event
from tests.integration.ingest.lake import lake_objects


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[LocalStack]:
    """One stack for the module: nothing here may store anything (each test checks the lake)."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}, use_redis=False) as local:
        yield local


def _invoke(stack: LocalStack, sample: str, fresh: bool) -> dict[str, Any]:
    response: dict[str, Any] = stack.invoke("IngestFunction", load_event(sample, fresh_timestamps=fresh))
    return response


@pytest.mark.parametrize(
    ("sample", "fresh", "status", "fields"),
    [
        ("ingest_empty_body", False, 400, ["body"]),
        ("ingest_non_json", False, 400, ["body"]),
        ("ingest_not_an_event", False, 400, ["body"]),
        ("ingest_wrong_content_type", False, 415, ["content-type"]),
        ("ingest_too_many_events", False, 413, ["events"]),
        ("ingest_oversize_body", False, 413, ["body"]),
        ("ingest_invalid_event", True, 400, ["quantity"]),
        ("ingest_future_timestamp", False, 400, ["timestamp"]),
        ("ingest_stale_timestamp", False, 400, ["timestamp"]),
    ],
)
def test_each_rejection_class_has_its_status_and_names_the_field(
    shared_stack: LocalStack, sample: str, fresh: bool, status: int, fields: list[str]
) -> None:
    # Given a sample request of one rejection class / When the ingest function handles it
    response = _invoke(shared_stack, sample, fresh)
    # Then it answers that class's status, with a JSON body naming the offending fields
    assert response["statusCode"] == status
    assert response["headers"]["Content-Type"] == "application/json"
    body = body_of(response)
    assert body["message"]
    assert sorted(e["field"] for e in body["errors"]) == fields
    # And nothing reached the lake
    assert lake_objects(shared_stack) == {}


def test_a_batch_with_nothing_valid_lists_each_event(shared_stack: LocalStack) -> None:
    # Given the sample batch in which no event is valid / When handled
    response = _invoke(shared_stack, "ingest_nothing_valid", True)
    # Then it is a 400 listing every event's index, field and reason
    assert response["statusCode"] == 400
    body = body_of(response)
    assert (body["accepted"], body["rejectedCount"]) == (0, 3)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (0, "eventType"),
        (1, "userId"),
        (2, "eventId"),
    ]
    assert all(r["reason"] and r["code"] for r in body["rejected"])
    assert [e["field"] for e in body["errors"]] == [
        "events[0].eventType",
        "events[1].userId",
        "events[2].eventId",
    ]
    assert lake_objects(shared_stack) == {}
