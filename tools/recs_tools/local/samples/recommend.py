"""Sample requests of the recommend function: one per context and identity kind, and the 400s."""

from __future__ import annotations

from typing import Any

from recs_tools.local.samples.common import api_event

REC = "/api/recommendations"


def _get(**query: str) -> dict[str, Any]:
    return api_event("GET", REC, REC, query=query)


def samples() -> dict[str, dict[str, Any]]:
    user = "user_000001"
    return {
        # contexts and identities
        "recommend_homepage": _get(userId=user, limit="10"),
        "recommend_anonymous": _get(anonId="anon_sample_1", limit="5"),
        "recommend_no_identity": _get(limit="5"),
        "recommend_product_page": _get(userId=user, context="product-page", productId="sku_00001"),
        "recommend_product_page_current_product_id": _get(
            anonId="anon_sample_1", context="product-page", currentProductId="sku_00001", limit="5"
        ),
        "recommend_cart": _get(userId=user, context="cart", cartProductIds="sku_00001,sku_00002"),
        "recommend_unknown_context": _get(userId=user, context="search-results", limit="5"),
        "recommend_category_filter": _get(userId=user, category="cat_electronics", limit="5"),
        # invalid parameters (400, naming the field)
        "recommend_bad_limit": _get(userId=user, limit="abc"),
        "recommend_limit_out_of_range": _get(userId=user, limit="101"),
        "recommend_bad_user_id": _get(userId="user 1@example.com"),
        "recommend_product_page_without_product": _get(userId=user, context="product-page"),
        "recommend_bad_cart": _get(userId=user, context="cart", cartProductIds="sku_1,,sku 2"),
    }
