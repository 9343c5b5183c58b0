from __future__ import annotations

import base64

from recs_tools.local.gateway_events import build_http_api_event
from recs_tools.local.http import _to_http


def test_request_becomes_a_payload_v2_event() -> None:
    # Given a GET with repeated query parameters and mixed-case headers
    event = build_http_api_event(
        method="GET",
        raw_path="/api/users/u1/privacy",
        raw_query="a=1&a=2&b=x",
        headers={"X-Thing": "v"},
        body=b"",
        route_path="/api/users/{userId}/privacy",
        path_parameters={"userId": "u1"},
    )
    # Then it has API Gateway's HTTP API shape
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /api/users/{userId}/privacy"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["headers"] == {"x-thing": "v"}
    assert event["pathParameters"] == {"userId": "u1"}
    assert event["requestContext"]["http"]["method"] == "GET"
    assert "body" not in event


def test_binary_bodies_are_base64_encoded() -> None:
    # Given a non-text body
    event = build_http_api_event(
        method="POST",
        raw_path="/x",
        raw_query="",
        headers={"content-type": "image/png"},
        body=b"\x89PNG",
        route_path="/x",
        path_parameters={},
    )
    # Then the event carries it base64-encoded, as API Gateway does
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG"


def test_handler_results_become_http_responses() -> None:
    # Given a proxy result and a bare JSON result
    status, headers, payload = _to_http(
        {"statusCode": 201, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    )
    bare = _to_http({"ok": True})
    # Then both map to status, lower-cased headers and bytes
    assert (status, headers["content-type"], payload) == (201, "application/json", b"{}")
    assert bare[0] == 200
