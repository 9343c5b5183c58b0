"""Sample requests of the ingest function: every event type, batches, and each rejection class."""

from __future__ import annotations

import json
from typing import Any

from recs_tools.local.samples.common import api_event, shop_event

EVENTS = "/api/events"
#: Timestamps outside the accepted window whatever day the samples are used.
FAR_FUTURE = "2099-01-01T00:00:00Z"
LONG_AGO = "2020-01-01T00:00:00Z"


def _post(body: Any, content_type: str = "application/json") -> dict[str, Any]:
    return api_event("POST", EVENTS, EVENTS, body=body, content_type=content_type)


def _compact(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def samples() -> dict[str, dict[str, Any]]:
    return {
        # ---------------------------------------------------------------- one of each event type
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
        # navigator.sendBeacon sends a string body as text/plain; it is accepted as JSON.
        "ingest_beacon_text_plain": _post(
            _compact(shop_event("view", 8, userId=None, anonId="anon_sample_1")),
            content_type="text/plain;charset=UTF-8",
        ),
        # ---------------------------------------------------------------- batches
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
        # PII where it does not belong: unknown fields, and contact data typed into free text.
        "ingest_with_pii": _post(
            {
                "events": [
                    shop_event(
                        "search",
                        30,
                        productId=None,
                        context="search",
                        query="charger for jane.doe@example.com call +1 (555) 010-0199",
                        results=["sku_00001"],
                        email="jane.doe@example.com",
                        name="Jane Doe",
                        phone="+1 555 0100",
                        address="12 Main Street, Springfield",
                        ip="203.0.113.7",
                    ),
                    shop_event(
                        "view",
                        31,
                        category="gifts for john.roe@example.org",
                        context="page from 198.51.100.23",
                    ),
                ]
            }
        ),
        "ingest_nothing_valid": _post(
            {
                "events": [
                    shop_event("teleport", 40),
                    shop_event("view", 41, userId=None),
                    shop_event("view", 42, eventId="not-a-uuid", productId=None),
                ]
            }
        ),
        # ---------------------------------------------------------------- each rejection class
        "ingest_invalid_event": _post(shop_event("purchase", 50, productId=None, quantity=0)),
        "ingest_future_timestamp": _post(shop_event("view", 51, timestamp=FAR_FUTURE)),
        "ingest_stale_timestamp": _post(shop_event("view", 52, timestamp=LONG_AGO)),
        "ingest_empty_body": api_event("POST", EVENTS, EVENTS, headers={"content-type": "application/json"}),
        "ingest_non_json": _post(b'{"eventType": "view", "productId": sku_00001}'),
        "ingest_wrong_content_type": _post(
            b"eventType=view&productId=sku_00001&userId=user_000001",
            content_type="application/x-www-form-urlencoded",
        ),
        "ingest_not_an_event": _post([shop_event("view", 53)]),
        "ingest_too_many_events": _post(
            _compact(
                {
                    "events": [
                        shop_event("view", 1000 + i, sessionId=None, category=None, context=None)
                        for i in range(501)
                    ]
                }
            )
        ),
        # 420 events (under the count limit), but with full result lists over 1 MiB in all.
        "ingest_oversize_body": _post(
            _compact(
                {
                    "events": [
                        shop_event(
                            "search",
                            2000 + i,
                            productId=None,
                            context="search",
                            query="charger",
                            results=[f"sku_{n:05d}" for n in range(200)],
                        )
                        for i in range(420)
                    ]
                }
            )
        ),
    }
