"""The sample events in `events/`: API Gateway (HTTP API, payload 2.0) requests and Step Functions
task payloads. They drive the integration tests and `sam local invoke -e events/<file>.json`.

`python -m recs.local.sample_events` rewrites them; a test fails when the files and this module
disagree, so the samples always have the exact shape the local API server produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from recs.local.http import build_http_api_event

FIXED_TIME = "26/Nov/2026:12:00:00 +0000"
FIXED_EPOCH_MS = 1_795_694_400_000
TS = "2026-11-26T11:59:00Z"


def _api(
    method: str,
    path: str,
    route: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    raw_body = (
        b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body, indent=1).encode())
    )
    headers = {"host": "127.0.0.1:3000", "user-agent": "sample-events"}
    if raw_body:
        headers["content-type"] = content_type
        headers["content-length"] = str(len(raw_body))
    event = build_http_api_event(
        method=method,
        raw_path=path,
        raw_query=urlencode(query or {}, safe=","),
        headers=headers,
        body=raw_body,
        route_path=route,
        path_parameters=path_parameters or {},
    )
    event["requestContext"]["requestId"] = "sample-request-id"
    event["requestContext"]["time"] = FIXED_TIME
    event["requestContext"]["timeEpoch"] = FIXED_EPOCH_MS
    return event


def _shop_event(event_type: str, n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": event_type,
        "timestamp": TS,
        "userId": "user_000001",
        "sessionId": "sess_sample_1",
        "productId": "sku_00001",
        "category": "cat_electronics",
        "context": "product-page",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def sample_events() -> dict[str, dict[str, Any]]:
    rec = "/api/recommendations"
    events: dict[str, dict[str, Any]] = {
        "recommend_homepage": _api("GET", rec, rec, query={"userId": "user_000001", "limit": "10"}),
        "recommend_anonymous": _api("GET", rec, rec, query={"anonId": "anon_sample_1", "limit": "5"}),
        "recommend_product_page": _api(
            "GET",
            rec,
            rec,
            query={"userId": "user_000001", "context": "product-page", "productId": "sku_00001"},
        ),
        "recommend_cart": _api(
            "GET",
            rec,
            rec,
            query={"userId": "user_000001", "context": "cart", "cartProductIds": "sku_00001,sku_00002"},
        ),
        "recommend_bad_limit": _api("GET", rec, rec, query={"userId": "user_000001", "limit": "abc"}),
        "ingest_view": _api("POST", "/api/events", "/api/events", body=_shop_event("view", 1)),
        "ingest_click": _api(
            "POST",
            "/api/events",
            "/api/events",
            body=_shop_event("click", 2, recommendationId="rec_sample_1", context="homepage"),
        ),
        "ingest_add_to_cart": _api(
            "POST", "/api/events", "/api/events", body=_shop_event("add_to_cart", 3, quantity=1, price=19.99)
        ),
        "ingest_purchase": _api(
            "POST", "/api/events", "/api/events", body=_shop_event("purchase", 4, quantity=2, price=19.99)
        ),
        "ingest_search": _api(
            "POST",
            "/api/events",
            "/api/events",
            body=_shop_event(
                "search",
                5,
                productId=None,
                category=None,
                context="search",
                query="usb c charger",
                results=["sku_00001", "sku_00007", "sku_00009"],
            ),
        ),
        "ingest_search_result_click": _api(
            "POST",
            "/api/events",
            "/api/events",
            body=_shop_event("search_result_click", 6, context="search", query="usb c charger"),
        ),
        "ingest_anonymous_view": _api(
            "POST",
            "/api/events",
            "/api/events",
            body=_shop_event("view", 7, userId=None, anonId="anon_sample_1"),
        ),
        "ingest_batch": _api(
            "POST",
            "/api/events",
            "/api/events",
            body={
                "events": [
                    _shop_event("view", 10),
                    _shop_event("click", 11),
                    _shop_event("add_to_cart", 12, quantity=1),
                    _shop_event("purchase", 13, quantity=1, price=5.0),
                    _shop_event("view", 14, userId=None, anonId="anon_sample_2", productId="sku_00002"),
                ]
            },
        ),
        "ingest_mixed_batch": _api(
            "POST",
            "/api/events",
            "/api/events",
            body={
                "events": [
                    _shop_event("view", 20),
                    _shop_event("teleport", 21),
                    _shop_event("view", 22, productId=None),
                    _shop_event("view", 23, email="jane.doe@example.com", phone="+1 555 0100"),
                ]
            },
        ),
        "privacy_opt_out": _api(
            "PUT",
            "/api/users/user_000001/preferences",
            "/api/users/{userId}/preferences",
            body={"preferences": {"recommendations": False}},
            path_parameters={"userId": "user_000001"},
        ),
        "privacy_opt_in": _api(
            "PUT",
            "/api/users/user_000001/preferences",
            "/api/users/{userId}/preferences",
            body={"preferences": {"recommendations": True}},
            path_parameters={"userId": "user_000001"},
        ),
        "privacy_status": _api(
            "GET",
            "/api/users/user_000001/privacy",
            "/api/users/{userId}/privacy",
            path_parameters={"userId": "user_000001"},
        ),
        "train_prepare": {
            "step": "prepare",
            "job": {
                "executionName": "sample",
                "startedAt": "2026-11-26T03:00:00Z",
                "input": {"trigger": "schedule"},
            },
        },
    }
    return events


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, event in sample_events().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(event, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("events")
    for path in write(target):
        print(path)
