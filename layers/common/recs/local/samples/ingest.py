"""Sample requests of the ingest function."""

from __future__ import annotations

from typing import Any

from recs.local.samples.common import api_event, shop_event

EVENTS = "/api/events"


def _post(body: Any) -> dict[str, Any]:
    return api_event("POST", EVENTS, EVENTS, body=body)


def samples() -> dict[str, dict[str, Any]]:
    return {
        "ingest_view": _post(shop_event("view", 1)),
        "ingest_click": _post(shop_event("click", 2, recommendationId="rec_sample_1", context="homepage")),
        "ingest_add_to_cart": _post(shop_event("add_to_cart", 3, quantity=1, price=19.99)),
        "ingest_purchase": _post(shop_event("purchase", 4, quantity=2, price=19.99)),
        "ingest_search": _post(
            shop_event(
                "search",
                5,
                productId=None,
                category=None,
                context="search",
                query="usb c charger",
                results=["sku_00001", "sku_00007", "sku_00009"],
            )
        ),
        "ingest_search_result_click": _post(
            shop_event("search_result_click", 6, context="search", query="usb c charger")
        ),
        "ingest_anonymous_view": _post(shop_event("view", 7, userId=None, anonId="anon_sample_1")),
        "ingest_batch": _post(
            {
                "events": [
                    shop_event("view", 10),
                    shop_event("click", 11),
                    shop_event("add_to_cart", 12, quantity=1),
                    shop_event("purchase", 13, quantity=1, price=5.0),
                    shop_event("view", 14, userId=None, anonId="anon_sample_2", productId="sku_00002"),
                ]
            }
        ),
        "ingest_mixed_batch": _post(
            {
                "events": [
                    shop_event("view", 20),
                    shop_event("teleport", 21),
                    shop_event("view", 22, productId=None),
                    shop_event("view", 23, email="jane.doe@example.com", phone="+1 555 0100"),
                ]
            }
        ),
    }
