"""Hostile input over HTTP on the local API of a trained stack: each gets a clear 4xx naming the
field or the problem, never a 5xx or an HTML page."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from bench.reliability.world import TrainedWorld

RECS = "/api/recommendations"
EVENTS = "/api/events"
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Hostile:
    name: str
    method: str
    path: str
    status: int
    names: str  # the field (or, without `errors`, the words of the message) the answer must name
    body: bytes = b""
    headers: dict[str, str] | None = None
    reason: str = ""  # words the answer's reason must contain, when the status alone is ambiguous


CASES = [
    Hostile("limit far over 100", "GET", RECS + "?limit=99999999999999999999", 400, "limit"),
    Hostile("limit not an integer", "GET", RECS + "?limit=1e3", 400, "limit"),
    Hostile("limit repeated", "GET", RECS + "?limit=5&limit=6", 400, "limit", reason="several values"),
    Hostile("anonId repeated", "GET", RECS + "?anonId=a&anonId=b", 400, "anonId", reason="several values"),
    Hostile("emoji in userId", "GET", RECS + "?userId=%F0%9F%98%80", 400, "userId"),
    Hostile("accented userId", "GET", RECS + "?userId=J%C3%BCrgen", 400, "userId"),
    Hostile("NUL in anonId", "GET", RECS + "?anonId=a%00b", 400, "anonId"),
    Hostile("newline in productId", "GET", RECS + "?context=product-page&productId=a%0Ab", 400, "productId"),
    Hostile("control character in category", "GET", RECS + "?category=toys%01", 400, "category"),
    Hostile("category nobody sells", "GET", RECS + "?category=cat_unknown", 404, "category"),
    Hostile("request line over 10240 bytes", "GET", RECS + "?anonId=" + "a" * 11_000, 414, "Request-URI"),
    Hostile("POST to a GET route", "POST", RECS, 405, "Method Not Allowed", b"{}", JSON),
    Hostile("DELETE on the events route", "DELETE", EVENTS, 405, "Method Not Allowed"),
    Hostile("OPTIONS (no route declares it)", "OPTIONS", RECS, 405, "Method Not Allowed"),
    Hostile("body over API Gateway's 10 MB", "POST", EVENTS, 413, "Too Large", b"x" * (10 * 2**20 + 1), JSON),
    Hostile(
        "body over the 1 MB ingest limit", "POST", EVENTS, 413, "body", b" " * (2**20 + 10) + b"{}", JSON
    ),
    Hostile("JSON nested 100000 deep", "POST", EVENTS, 400, "body", b"[" * 100_000 + b"]" * 100_000, JSON),
    Hostile(
        "events nested deep",
        "POST",
        EVENTS,
        400,
        "body",
        b'{"events":[' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"]}",
        JSON,
    ),
    Hostile(
        "number with 5000 digits",
        "POST",
        EVENTS,
        400,
        "body",
        b'{"events":[' + b"9" * 5000 + b"]}",
        JSON,
        reason="more than 4300 digits",
    ),
    Hostile("events body not UTF-8", "POST", EVENTS, 400, "body", b'{"events": ["\xff\xfe"]}', JSON),
    Hostile(
        "erasure body nested 100000 deep",
        "POST",
        "/api/users/user_1/erasure",
        400,
        "body",
        b"[" * 100_000 + b"]" * 100_000,
        JSON,
        reason="nested too deeply",
    ),
    Hostile("rule change unsigned (IAM only)", "PUT", "/api/admin/rules/r1", 403, "Forbidden", b"{}", JSON),
    Hostile("erasure body not UTF-8", "POST", "/api/users/user_1/erasure", 400, "body", b"\xff\xfe{", JSON),
    Hostile("events in CSV", "POST", EVENTS, 415, "content-type", b"a,b", {"content-type": "text/csv"}),
    Hostile(
        "erasure body in text/plain",
        "POST",
        "/api/users/user_1/erasure",
        415,
        "content-type",
        b"{}",
        {"content-type": "text/plain"},
    ),
    Hostile(
        "erasure body with a blank key",
        "POST",
        "/api/users/user_1/erasure",
        400,
        '" "',
        b'{" ": 1}',
        JSON,
        reason="Extra inputs",
    ),
    Hostile(
        "erasure body not JSON",
        "POST",
        "/api/users/user_1/erasure",
        400,
        "body",
        b'{"anonIds": [',
        JSON,
        reason="not valid JSON",
    ),
    Hostile(
        "501 events in a batch",
        "POST",
        EVENTS,
        413,
        "events",
        b'{"events":[' + b",".join([b"{}"] * 501) + b"]}",
        JSON,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gets_a_4xx_that_names_the_problem(world: TrainedWorld, case: Hostile) -> None:
    # Given the local API of a trained stack
    with httpx.Client(base_url=world.api.url, timeout=60) as client:
        # When the hostile request is sent
        response = client.request(case.method, case.path, content=case.body or None, headers=case.headers)
    # Then the answer is the expected 4xx, in JSON, naming the field or the problem
    assert response.status_code == case.status, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    fields = [str(error["field"]) for error in body.get("errors") or []]
    assert case.names in fields or case.names in body["message"], body
    reasons = " ".join(str(error["reason"]) for error in body.get("errors") or [])
    assert case.reason in reasons, body
    # And no Python internals leak into it
    assert "Traceback" not in response.text
    assert "sys.set_int_max_str_digits" not in response.text


def test_after_the_hostile_requests_the_api_still_serves(world: TrainedWorld) -> None:
    # Given the API after every hostile request above (same module, same server)
    # When a shopper asks for recommendations
    response = httpx.get(world.api.url + RECS, params={"anonId": "anon_after", "limit": "5"}, timeout=30)
    # Then they are served from the trained version
    assert response.status_code == 200
    assert response.json()["modelVersion"] == world.version
    assert len(response.json()["products"]) == 5
