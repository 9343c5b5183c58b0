"""POST /api/events over real HTTP, as the shop's frontend sends it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from recs_tools.synthetic import build_config, generate_shop, iter_batches
from tests.integration.ingest.lake import lake_records


@pytest.fixture(scope="module")
def server() -> Iterator[LocalApiServer]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        api = LocalApiServer(stack, port=0).start()
        yield api
        api.stop()


def _raw_post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url + "/api/events", data=body, method="POST", headers={"content-type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _event(n: int) -> dict[str, Any]:
    return {
        "eventId": f"e2e00000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": datetime.now(UTC).isoformat(),
        "anonId": "anon_e2e",
        "productId": f"sku_{n:05d}",
    }


def test_a_shop_posts_its_events_and_they_all_land(server: LocalApiServer) -> None:
    # Given a small synthetic shop's events / When posted over HTTP in batches of 500
    shop = generate_shop(build_config("test", seed=21, now=datetime.now(UTC).replace(microsecond=0)))
    before = len(lake_records(server.stack))
    accepted = 0
    for batch in iter_batches(shop.events, size=500):
        result = http_call(server.url, "POST", "/api/events", {"events": batch})
        assert result.status == 202, result.body
        accepted += result.body["accepted"]
    # Then every event was accepted and is in the lake
    assert accepted == len(shop.events)
    assert len(lake_records(server.stack)) - before == accepted


def test_a_mixed_batch_is_202_with_the_rejected_listed(server: LocalApiServer) -> None:
    # Given a batch with one event lacking its product / When posted over HTTP
    bad = {**_event(2), "productId": None}
    result = http_call(server.url, "POST", "/api/events", {"events": [_event(1), bad]})
    # Then it is a 202 naming the rejected event's index and field
    assert result.status == 202
    assert result.body["accepted"] == 1
    assert [(r["index"], r["field"]) for r in result.body["rejected"]] == [(1, "productId")]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        (b'{"events": [', "application/json", 400, "body"),
        (b"eventType=view", "application/x-www-form-urlencoded", 415, "content-type"),
        (b"", "application/json", 400, "body"),
        (json.dumps({"events": [{"n": i} for i in range(501)]}).encode(), "application/json", 413, "events"),
        (b'{"events": [' + b" " * 1_100_000 + b"]}", "application/json", 413, "body"),
    ],
    ids=["non-json", "wrong-content-type", "empty", "too-many-events", "over-1-MiB"],
)
def test_unusable_requests_get_their_own_4xx_over_http(
    server: LocalApiServer, body: bytes, content_type: str, status: int, field: str
) -> None:
    # Given a request the API cannot use / When it is posted over HTTP
    code, answer = _raw_post(server.url, body, content_type)
    # Then the status and the named field say what is wrong
    assert code == status
    assert [e["field"] for e in answer["errors"]] == [field]


def test_a_beacon_with_text_plain_is_accepted(server: LocalApiServer) -> None:
    # Given navigator.sendBeacon's text/plain content type / When an event is posted so
    code, answer = _raw_post(server.url, json.dumps(_event(3)).encode(), "text/plain;charset=UTF-8")
    # Then it is accepted like JSON
    assert (code, answer["accepted"]) == (202, 1)


def test_a_crawler_running_the_tracker_gets_its_events_refused_and_none_lands(server: LocalApiServer) -> None:
    # Given Googlebot rendering a page that runs the tracker
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    before = len(lake_records(server.stack))
    # When it posts a view over HTTP
    result = http_call(
        server.url, "POST", "/api/events", {"events": [_event(901)]}, {"user-agent": googlebot}
    )
    # Then the request is refused naming the User-Agent, and nothing reached the lake
    assert result.status == 400
    assert [(r["field"], r["code"]) for r in result.body["rejected"]] == [("User-Agent", "crawler")]
    assert len(lake_records(server.stack)) == before
