"""Simulated shoppers for ``make demo``'s experiment report: real API calls, seeded behaviour.

The local stack's functions log to the console rather than to CloudWatch Logs, so the demo counts
impressions where a storefront would: each list a simulated shopper receives from
``GET /api/recommendations`` is one impression. A shopper clicks a list more often the more of
its first products are in their favourite categories (the synthetic shop's ground truth), adds
to cart and buys at fixed rates, and every such event goes through ``POST /api/events`` with the
list's ``recommendationId``, so the lake holds them exactly as it would from the tracker.
"""

from __future__ import annotations

import contextlib
import io
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from recs_tools.progress import bar
from recs_tools.synthetic import SyntheticShop

#: The demo's experiment (template parameter RecommendExperiments, docs/serving.md).
DEMO_EXPERIMENTS = (
    '[{"name": "hp-model-vs-pop", "contexts": ["homepage"], "variants": ['
    '{"name": "model", "weight": 50}, '
    '{"name": "popular", "weight": 50, "chains": {"homepage": ["popular", "trending"]}}]}]'
)
#: The experiment's control: the variant the others are tested against in the report.
DEMO_REFERENCE = "popular"
SHOWN = 4
BASE_CLICK, INTEREST_CLICK = 0.04, 0.30
CART_AFTER_CLICK, PURCHASE_AFTER_CART = 0.35, 0.5

#: (method, path, body) -> (status, parsed body): `recs_tools.local.demo.http_call` bound to a URL.
Call = Callable[[str, str, Any], tuple[int, Any]]


@dataclass(frozen=True)
class Traffic:
    served_ids: list[str]
    events: list[dict[str, Any]]


def simulate_shoppers(call: Call, shop: SyntheticShop, *, visits: int = 600, seed: int = 42) -> Traffic:
    """``visits`` homepage visits by known shoppers (seeded), and the events they lead to."""
    # The functions flush their metrics to stdout every 100 requests (Powertools' EMF); this
    # burst of requests is the demo's own doing, so its console output is not shown.
    with contextlib.redirect_stdout(io.StringIO()):
        return _simulate(call, shop, visits, random.Random(seed))


def _simulate(call: Call, shop: SyntheticShop, visits: int, rng: random.Random) -> Traffic:
    category = {p.id: p.category for p in shop.products}
    opted_out = set(shop.opted_out_user_ids)
    shoppers = [u for u in shop.users if u not in opted_out and u in shop.favourite_categories]
    served: list[str] = []
    events: list[dict[str, Any]] = []
    for _ in bar(range(visits), "simulated shoppers", total=visits, unit="visit"):
        user = rng.choice(shoppers)
        status, body = call("GET", f"/api/recommendations?userId={user}&context=homepage&limit={SHOWN}", None)
        if status != 200 or not body.get("recommendationId") or not body.get("products"):
            continue
        served.append(body["recommendationId"])
        shown = [p["id"] for p in body["products"][:SHOWN]]
        liked = set(shop.favourite_categories[user])
        interest = sum(category.get(p) in liked for p in shown) / len(shown)
        if rng.random() >= BASE_CLICK + INTEREST_CLICK * interest:
            continue
        product = rng.choice([p for p in shown if category.get(p) in liked] or shown)
        chain = ["click"]
        if rng.random() < CART_AFTER_CLICK:
            chain.append("add_to_cart")
            if rng.random() < PURCHASE_AFTER_CART:
                chain.append("purchase")
        for event_type in chain:
            events.append(_event(rng, event_type, user, product, body["recommendationId"]))
    for start in range(0, len(events), 500):
        status, body = call("POST", "/api/events", {"events": events[start : start + 500]})
        if status not in (202, 207):
            raise RuntimeError(f"ingest answered {status}: {body}")
    return Traffic(served, events)


def _event(
    rng: random.Random, event_type: str, user: str, product: str, recommendation: str
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventType": event_type,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "userId": user,
        "productId": product,
        "context": "homepage",
        "recommendationId": recommendation,
    }
    if event_type != "click":
        event["quantity"] = 1
    return event


def http_caller(base_url: str) -> Call:
    """`Call` over real HTTP to the local stack's API server."""
    from recs_tools.local.http_client import http_call

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        result = http_call(base_url, method, path, body)
        return result.status, result.body

    return call
