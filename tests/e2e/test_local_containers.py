"""The local API gives each function one request at a time, as a Lambda container does, so the
handlers' per-request module state (Powertools metric dimensions, logger keys) never mixes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call


def test_concurrent_requests_to_a_function_run_one_at_a_time(
    api: LocalApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the recommend function replaced by a handler noting how many calls are inside it
    function = api.stack.function("RecommendFunction")
    inside, most = [0], [0]
    lock = threading.Lock()

    def handler(event: Any, context: Any) -> dict[str, Any]:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with lock:
            inside[0] -= 1
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}

    monkeypatch.setattr(function, "_handler", handler)
    # When eight clients call the route together
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda _: http_call(api.url, "GET", "/api/recommendations?userId=u1").status, range(16))
        )
    # Then every call was answered, and never two inside the function at once
    assert statuses == [200] * 16
    assert most[0] == 1
