"""A shop trying the product with its own events, all over HTTP against `recs local`: events
posted to /api/events, a training run started with POST /local/training-runs and followed to its
end, then every page and identity served. The shop is the `first-day` preset: one day of a new
shop's events, what a merchant has in their first hours."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from recs_tools.synthetic import SyntheticShop, build_config, generate_shop, iter_batches

RUNS = "/local/training-runs"


@pytest.fixture(scope="module")
def shop() -> SyntheticShop:
    # Ingest keeps events inside its retention window, which is relative to today.
    now = datetime.now(UTC).replace(microsecond=0)
    return generate_shop(build_config("first-day", seed=5, now=now))


@pytest.fixture(scope="module")
def trained(shop: SyntheticShop) -> Iterator[tuple[LocalApiServer, dict[str, Any]]]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        server = LocalApiServer(stack, port=0).start()
        for batch in iter_batches(shop.events):
            posted = http_call(server.url, "POST", "/api/events", {"events": batch})
            assert posted.status == 202, posted.body
        started = http_call(server.url, "POST", RUNS)
        assert started.status == 202, started.body
        run = started.body
        deadline = time.monotonic() + 300
        while run["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.5)
            run = http_call(server.url, "GET", f"{RUNS}/{started.body['id']}").body
        yield server, {"started": started.body, "ended": run}
        server.stop()


def test_a_run_started_over_http_is_followed_to_its_end(
    trained: tuple[LocalApiServer, dict[str, Any]],
) -> None:
    # Given the shop's day of events posted over HTTP and a run started with POST
    server, run = trained
    # Then the run was answered at once as running, and ended with a version or a refusal
    assert run["started"]["status"] == "RUNNING"
    ended = run["ended"]
    assert ended["status"] in ("SUCCEEDED", "FAILED"), ended
    if ended["status"] == "SUCCEEDED":
        assert ended["modelVersion"].startswith("v")
    else:
        # A first day's model may not beat popularity: refused, while popular and trending serve
        assert ended["error"] == "QualityGateRefused", ended
    # And the run is listed
    listed = http_call(server.url, "GET", RUNS).body["runs"]
    assert [r["id"] for r in listed] == [ended["id"]]


@pytest.mark.parametrize("context", ["homepage", "product-page", "cart", "search results"])
@pytest.mark.parametrize("identity", ["user", "anonymous", "none"])
def test_after_the_first_run_every_context_and_identity_answers_200(
    trained: tuple[LocalApiServer, dict[str, Any]], shop: SyntheticShop, context: str, identity: str
) -> None:
    # Given the first day's run has ended
    server, _ = trained
    products = [p.id for p in shop.products if p.available]
    query: dict[str, str] = {"context": context, "limit": "5"}
    if identity == "user":
        query["userId"] = next(u for u in shop.users if u not in set(shop.opted_out_user_ids))
    elif identity == "anonymous":
        query["anonId"] = shop.anonymous_ids[0]
    if context == "product-page":
        query["productId"] = products[0]
    if context == "cart":
        query["cartProductIds"] = ",".join(products[1:3])
    # When the frontend asks
    result = http_call(server.url, "GET", "/api/recommendations?" + urlencode(query, safe=","))
    # Then it is a full list, never a 503
    assert result.status == 200, result.body
    assert len(result.body["products"]) == 5


def test_unknown_runs_and_wrong_methods_answer_like_the_rest_of_the_api(
    trained: tuple[LocalApiServer, dict[str, Any]],
) -> None:
    server, _ = trained
    # When a run id that was never started is asked for / Then 404 naming it
    missing = http_call(server.url, "GET", f"{RUNS}/nosuch")
    assert missing.status == 404
    assert "nosuch" in missing.body["message"]
    # When a method the routes do not take is sent / Then 405 with the allowed methods
    refused = http_call(server.url, "DELETE", RUNS)
    assert refused.status == 405
    assert refused.headers.get("allow", refused.headers.get("Allow")) == "GET, HEAD, POST"
