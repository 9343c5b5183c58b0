"""A small JSON HTTP client (standard library only): the demo, its simulated shoppers and the e2e
tests talk to the local API through it, over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def http_call(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> HttpResult:
    """A small JSON HTTP client (stdlib only), for the demo and the e2e tests."""
    data = json.dumps(body).encode() if body is not None else None
    request_headers = {"content-type": "application/json", **(headers or {})}
    request = urllib.request.Request(base_url + path, data=data, method=method, headers=request_headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return HttpResult(
                response.status, json.loads(raw) if raw else None, dict(response.headers.items())
            )
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        return HttpResult(error.code, parsed, dict(error.headers.items()))
