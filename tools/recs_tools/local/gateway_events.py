"""The API Gateway HTTP API (payload format 2.0) proxy event for one request: what the local API
(`recs_tools.local.http`), the stack's direct calls and the sample events (`events/*.json`) all
hand to a function, in the shape AWS delivers."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl


def build_http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    route_path: str,
    path_parameters: dict[str, str],
    source_ip: str = "127.0.0.1",
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for one request."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        # HTTP APIs join repeated query parameters with commas.
        query[key] = f"{query[key]},{value}" if key in query else value
    lowered = {key.lower(): value for key, value in headers.items()}
    is_text = body == b"" or (_looks_textual(lowered.get("content-type", "")) and _is_utf8(body))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {route_path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode("ascii")
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


def _looks_textual(content_type: str) -> bool:
    return content_type.startswith(("text/", "application/json")) or "json" in content_type


def _is_utf8(body: bytes) -> bool:
    """A body that claims to be text but is not UTF-8 reaches the function base64-encoded, bytes
    intact, so that the function (not the gateway) answers that it is not UTF-8."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
