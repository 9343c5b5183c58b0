"""Builders shared by the sample-event modules (fixed ids and times, so files are stable)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from recs_tools.local.gateway_events import build_http_api_event

FIXED_TIME = "26/Nov/2026:12:00:00 +0000"
FIXED_EPOCH_MS = 1_795_694_400_000
TS = "2026-11-26T11:59:00Z"


def api_event(
    method: str,
    path: str,
    route: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event with a fixed request id and time."""
    raw_body = (
        b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body, indent=1).encode())
    )
    all_headers = {"host": "127.0.0.1:3000", "user-agent": "sample-events", **(headers or {})}
    if raw_body:
        all_headers["content-type"] = content_type
        all_headers["content-length"] = str(len(raw_body))
    event = build_http_api_event(
        method=method,
        raw_path=path,
        raw_query=urlencode(query or {}, safe=","),
        headers=all_headers,
        body=raw_body,
        route_path=route,
        path_parameters=path_parameters or {},
    )
    event["requestContext"]["requestId"] = "sample-request-id"
    event["requestContext"]["time"] = FIXED_TIME
    event["requestContext"]["timeEpoch"] = FIXED_EPOCH_MS
    return event


def shop_event(event_type: str, n: int, **fields: Any) -> dict[str, Any]:
    """A ShopEvent in wire format; `None` removes a field."""
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
