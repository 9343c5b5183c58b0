"""A product added to the catalog this morning, over HTTP: after the shop uploads its catalog
export (the catalog feed runs, as S3's notification does in AWS), the very next requests show it
in new arrivals on the homepage and give its own product page similar items by attributes,
without waiting for events or a training run. Availability changes reach serving the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from recs.store_layout import CATALOG_OBJECT_KEY
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from recs_tools.synthetic import SyntheticShop
from tests.integration.training.support import ingest_shop, upload_catalog

NEW = "sku_new_0001"


def _get(server: LocalApiServer, **query: str) -> Any:
    result = http_call(server.url, "GET", "/api/recommendations?" + urlencode(query, safe=","))
    assert result.status == 200, result.body
    return result.body


@pytest.fixture(scope="module")
def shop_with_a_new_product() -> Iterator[tuple[LocalApiServer, SyntheticShop, dict[str, Any]]]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        shop = ingest_shop(stack)
        upload_catalog(stack, shop)
        assert stack.run_training()["status"] == "SUCCEEDED"
        server = LocalApiServer(stack, port=0).start()
        # The shop adds a product this morning (no event has ever named it) and sells out another
        first = shop.products[0]
        gone = next(p for p in shop.products[1:] if p.available)
        catalog = [p.to_dict() for p in shop.products]
        for product in catalog:
            if product["id"] == gone.id:
                product["available"] = False
        added = {
            "id": NEW,
            "category": first.category,
            "price": first.price,
            "available": True,
            "addedAt": "2026-12-05T08:00:00Z",  # dated: the newest of the new arrivals
        }
        catalog.append(added)
        body = "\n".join(json.dumps(p) for p in catalog).encode()
        (result,) = stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, body)
        yield server, shop, {"feed": result, "gone": gone.id, "first": first}
        server.stop()


def test_the_upload_ran_the_catalog_feed(
    shop_with_a_new_product: tuple[LocalApiServer, SyntheticShop, dict[str, Any]],
) -> None:
    _, _, upload = shop_with_a_new_product
    (report,) = upload["feed"]["refreshed"]
    assert report["newProducts"] >= 1
    assert report["catalogVersion"].startswith("c")


def test_the_new_product_is_among_the_homepages_new_arrivals_at_once(
    shop_with_a_new_product: tuple[LocalApiServer, SyntheticShop, dict[str, Any]],
) -> None:
    # Given the upload / When a shopper asks for the homepage on the next request
    server, shop, _ = shop_with_a_new_product
    user = next(u for u in shop.users if u not in set(shop.opted_out_user_ids))
    body = _get(server, userId=user, limit="10")
    # Then one slot in ten is a new arrival: the product added this morning, the newest
    arrivals = [p["id"] for p in body["products"] if p["reason"] == "new-arrival"]
    assert arrivals == [NEW]
    # And an anonymous visitor's homepage shows it too
    anonymous = _get(server, anonId="anon_new_products", limit="10")
    assert [p["id"] for p in anonymous["products"] if p["reason"] == "new-arrival"] == [NEW]


def test_the_new_products_page_lists_similar_items_of_its_category(
    shop_with_a_new_product: tuple[LocalApiServer, SyntheticShop, dict[str, Any]],
) -> None:
    # Given the product no event has named / When its product page asks
    server, shop, upload = shop_with_a_new_product
    body = _get(server, anonId="anon_new_products", context="product-page", productId=NEW, limit="5")
    # Then similar items by category and attributes lead, never the product itself
    assert body["products"][0]["reason"] == "similar-items"
    category = {p.id: p.category for p in shop.products}
    similar = [p["id"] for p in body["products"] if p["reason"] == "similar-items"]
    assert similar
    assert {category[p] for p in similar} == {upload["first"].category}
    assert NEW not in {p["id"] for p in body["products"]}


def test_a_product_sold_out_in_the_upload_is_never_served_again(
    shop_with_a_new_product: tuple[LocalApiServer, SyntheticShop, dict[str, Any]],
) -> None:
    server, shop, upload = shop_with_a_new_product
    for user in shop.users[:20]:
        assert upload["gone"] not in {p["id"] for p in _get(server, userId=user, limit="20")["products"]}
