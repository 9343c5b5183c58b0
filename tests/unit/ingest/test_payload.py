"""Each way a request as a whole can be wrong gets its own status and names its field."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from recs.errors import InvalidRequestError
from recs.ingest.payload import MAX_EVENTS_PER_REQUEST, IngestRequest, parse_json_body, read_events

LIMIT = 10_000
EVENT = {"eventId": "00000000-0000-4000-8000-000000000001", "eventType": "view"}


def _request(body: bytes, content_type: str | None = "application/json") -> IngestRequest:
    return IngestRequest(content_type=content_type, body=body)


def _refusal(request: IngestRequest) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as raised:
        read_events(request, LIMIT)
    return raised.value


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        pytest.param(b"", "application/json", 400, "body", id="empty"),
        pytest.param(b"  \n ", "application/json", 400, "body", id="whitespace-only"),
        pytest.param(b"x" * (LIMIT + 1), "application/json", 413, "body", id="over-the-size-limit"),
        pytest.param(b"{}", None, 415, "content-type", id="no-content-type"),
        pytest.param(b"{}", "application/x-www-form-urlencoded", 415, "content-type", id="form"),
        pytest.param(b"{}", "multipart/form-data; boundary=x", 415, "content-type", id="multipart"),
        pytest.param(b"{}", "application/json; charset=iso-8859-1", 415, "content-type", id="latin-1"),
        pytest.param(b'{"eventType": view}', "application/json", 400, "body", id="not-json"),
        pytest.param(b"\xff\xfe{}", "application/json", 400, "body", id="not-utf-8"),
        pytest.param(b"[" * 4000 + b"]" * 4000, "application/json", 400, "body", id="nested-deeply"),
        pytest.param(b'{"quantity": ' + b"9" * 5000 + b"}", "application/json", 400, "body", id="huge-int"),
        pytest.param(b"[{}]", "application/json", 400, "body", id="top-level-array"),
        pytest.param(b'"view"', "application/json", 400, "body", id="a-string"),
        pytest.param(b'{"events": {}}', "application/json", 400, "events", id="events-not-a-list"),
        pytest.param(b'{"events": []}', "application/json", 400, "events", id="events-empty"),
    ],
)
def test_each_unusable_request_gets_its_own_status_naming_the_field(
    body: bytes, content_type: str | None, status: int, field: str
) -> None:
    # Given a request that cannot be read as events / When it is read
    error = _refusal(_request(body, content_type))
    # Then its status and the field it names say what is wrong
    assert (error.status, list(error.fields)) == (status, [field])


def test_more_than_500_events_is_413_naming_events() -> None:
    # Given a batch of 501 events (the size limit is not the problem)
    body = json.dumps({"events": [EVENT] * (MAX_EVENTS_PER_REQUEST + 1)}).encode()
    # When it is read
    with pytest.raises(InvalidRequestError) as raised:
        read_events(_request(body), len(body))
    # Then it is refused as too large, naming `events` and the limit
    assert raised.value.status == 413
    assert "at most 500" in raised.value.fields["events"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "text/plain"],
)
def test_json_and_beacon_content_types_are_accepted(content_type: str) -> None:
    # Given a single event sent with a JSON or sendBeacon content type
    request = _request(json.dumps(EVENT).encode(), content_type)
    # When it is read / Then it is one event, not a batch
    assert read_events(request, LIMIT) == ([EVENT], False)


def test_a_batch_is_read_in_order() -> None:
    # Given 500 events (the most a request may carry)
    events: list[dict[str, Any]] = [{**EVENT, "n": i} for i in range(MAX_EVENTS_PER_REQUEST)]
    body = json.dumps({"events": events}).encode()
    # When the request is read / Then every event comes back in order, as a batch
    assert read_events(_request(body), len(body)) == (events, True)


def test_a_base64_body_is_decoded() -> None:
    # Given a body API Gateway base64-encoded (a content type it treats as binary)
    encoded = base64.b64encode(json.dumps(EVENT).encode()).decode()
    # When the request is built from the HTTP event
    request = IngestRequest.from_http("application/json", encoded, True)
    # Then the body is the original JSON
    assert json.loads(request.body) == EVENT


def test_invalid_base64_is_400_naming_body() -> None:
    # Given a body flagged as base64 that is not / When the request is built / Then 400 names `body`
    with pytest.raises(InvalidRequestError) as raised:
        IngestRequest.from_http("application/json", "not base64!", True)
    assert (raised.value.status, list(raised.value.fields)) == (400, ["body"])


def test_the_size_limit_counts_bytes_not_characters() -> None:
    # Given a body of exactly the limit in bytes, made of two-byte characters
    text = json.dumps({"q": "é" * 20}, ensure_ascii=False)
    request = IngestRequest.from_http("application/json", text, False)
    # When read with a limit one byte below its UTF-8 size / Then it is too large
    with pytest.raises(InvalidRequestError) as raised:
        read_events(request, len(text.encode()) - 1)
    assert raised.value.status == 413
    # And with exactly its size it is accepted
    assert read_events(request, len(text.encode()))[0] == [{"q": "é" * 20}]


@pytest.mark.parametrize("body", [None, "", "   "])
def test_parse_json_body_refuses_an_empty_body(body: str | None) -> None:
    # Given an empty body on any JSON route / When parsed / Then 400 names `body`
    with pytest.raises(InvalidRequestError) as raised:
        parse_json_body(body)
    assert list(raised.value.fields) == ["body"]


def test_parse_json_body_refuses_non_json_and_parses_json() -> None:
    # Given a non-JSON and a JSON body / When parsed
    with pytest.raises(InvalidRequestError) as raised:
        parse_json_body("{nope")
    # Then the first is a 400 naming `body` and the second is its value
    assert raised.value.status == 400
    assert list(raised.value.fields) == ["body"]
    assert parse_json_body('{"a": [1]}') == {"a": [1]}
