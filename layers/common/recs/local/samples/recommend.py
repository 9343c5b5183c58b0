"""Sample requests of the recommend function."""

from __future__ import annotations

from typing import Any

from recs.local.samples.common import api_event

REC = "/api/recommendations"


def samples() -> dict[str, dict[str, Any]]:
    return {
        "recommend_homepage": api_event("GET", REC, REC, query={"userId": "user_000001", "limit": "10"}),
        "recommend_anonymous": api_event("GET", REC, REC, query={"anonId": "anon_sample_1", "limit": "5"}),
        "recommend_product_page": api_event(
            "GET",
            REC,
            REC,
            query={"userId": "user_000001", "context": "product-page", "productId": "sku_00001"},
        ),
        "recommend_cart": api_event(
            "GET",
            REC,
            REC,
            query={"userId": "user_000001", "context": "cart", "cartProductIds": "sku_00001,sku_00002"},
        ),
        "recommend_bad_limit": api_event("GET", REC, REC, query={"userId": "user_000001", "limit": "abc"}),
    }
