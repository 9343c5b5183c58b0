"""GET /api/recommendations over HTTP when nothing can answer yet."""

from __future__ import annotations

from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call


def test_before_the_first_model_the_api_answers_503_with_retry_after(api: LocalApiServer) -> None:
    # Given a stack where training never ran
    # When the frontend asks over HTTP
    result = http_call(api.url, "GET", "/api/recommendations?userId=user_000001")
    # Then it is told the service is degraded, and when to retry
    headers = {k.lower(): v for k, v in result.headers.items()}
    assert result.status == 503
    assert int(headers["retry-after"]) > 0
    assert "message" in result.body
