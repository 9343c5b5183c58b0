"""GET /api/recommendations over real HTTP on the local API (the frontend's view)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from recs.serving.attribution import RecommendationId
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import http_call
from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import RICH_LIST, RICH_USER, World, similar_to, sku


def _get(api: LocalApiServer, **query: str) -> tuple[int, dict[str, object], dict[str, str]]:
    result = http_call(api.url, "GET", "/api/recommendations?" + urlencode(query, safe=","))
    return result.status, result.body, {k.lower(): v for k, v in result.headers.items()}


def _products(body: dict[str, object]) -> list[dict[str, Any]]:
    products = body["products"]
    assert isinstance(products, list)
    return products


def _brand(n: int) -> str | None:
    return {0: "acme", 1: "globex"}.get(n % 3)


def _tags(n: int) -> tuple[str, ...]:
    return ("eco",) if n % 4 == 0 else ()


@pytest.fixture(scope="module")
def published() -> Iterator[LocalApiServer]:
    """One stack and API for the read-only tests of this module, with the test world published and
    an attribute map (read only by requests that filter on brand, price or tags): brands (every
    third product acme, the next globex), prices (n + 0.5) and tags (every fourth product "eco")."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        world = World(stack)
        world.publish_everything()
        world.attributes({sku(n): (_brand(n), n + 0.5, _tags(n)) for n in range(60)})
        server = LocalApiServer(stack, port=0).start()
        yield server
        server.stop()


@pytest.mark.parametrize(
    ("query", "source", "first"),
    [
        ({"userId": RICH_USER}, "user", RICH_LIST[0][0]),
        ({"anonId": "anon_e2e"}, "popular", sku(0)),
        ({}, "popular", sku(0)),
        (
            {"userId": RICH_USER, "context": "product-page", "productId": sku(1)},
            "similar",
            similar_to(1)[0][0],
        ),
        (
            {"anonId": "anon_e2e", "context": "cart", "cartProductIds": f"{sku(1)},{sku(2)}"},
            "bought-together",
            None,
        ),
    ],
)
def test_every_context_answers_in_the_contract_shape(
    published: LocalApiServer, query: dict[str, str], source: str, first: str | None
) -> None:
    # Given the published test world / When the frontend asks over HTTP
    status, body, headers = _get(published, **query, limit="5")
    # Then it gets the contract's body with the added attribution fields
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    products = body["products"]
    assert isinstance(products, list)
    assert len(products) == 5
    # (basedOn only where the source has an anchor: test_each_product_says_what_it_is_based_on_over_http)
    assert all({"id", "score", "reason"} <= set(p) <= {"id", "score", "reason", "basedOn"} for p in products)
    assert body["source"] == source
    assert RecommendationId.parse(str(body["recommendationId"])) is not None
    if first is not None:
        assert products[0]["id"] == first


def test_each_product_says_what_it_is_based_on_over_http(published: LocalApiServer) -> None:
    # Given the published test world
    # When the frontend asks for a product page, a cart and an anonymous homepage over HTTP
    _, page, _ = _get(published, anonId="anon_e2e", context="product-page", productId=sku(1), limit="5")
    _, cart, _ = _get(published, anonId="anon_e2e", context="cart", cartProductIds=f"{sku(1)},{sku(2)}")
    _, home, _ = _get(published, anonId="anon_e2e", limit="5")
    # Then similar items are based on the product on screen, viewed
    assert [p["basedOn"] for p in _products(page)] == [{"productId": sku(1), "relation": "viewed"}] * 5
    # And the cart's on one of its items, in the cart
    cart_anchors = {json.dumps(p["basedOn"], sort_keys=True) for p in _products(cart)}
    assert cart_anchors == {
        json.dumps({"productId": item, "relation": "in-cart"}, sort_keys=True) for item in (sku(1), sku(2))
    }
    # And the shop's popular list, based on nothing, carries no basedOn at all (not even null)
    assert home["source"] == "popular"
    assert all("basedOn" not in p for p in _products(home))


def test_bad_parameters_answer_400_naming_each_field_over_http(published: LocalApiServer) -> None:
    # When the frontend sends a bad id and limit on a product page without a product
    status, body, _ = _get(published, userId="a b", limit="0", context="product-page")
    # Then the 400 names each bad parameter Powertools found
    assert status == 400
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {e["field"] for e in errors} == {"userId", "limit"}


def test_a_repeated_request_is_served_the_same_list(published: LocalApiServer) -> None:
    # Given the same request twice (the second from the cache) / Then the same products
    first = _get(published, userId=RICH_USER)
    second = _get(published, userId=RICH_USER)
    assert first[1]["products"] == second[1]["products"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("TRACE", "/api/recommendations", 405),
        ("PROPFIND", "/api/recommendations", 405),
        ("FOO", "/api/events", 405),
        ("TRACE", "/nowhere", 404),
    ],
)
def test_unknown_methods_answer_as_the_gateway_does_never_501(
    published: LocalApiServer, method: str, path: str, status: int
) -> None:
    # Given the local API / When a method no route declares is sent
    split = urlsplit(published.url)
    connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    # Then it is the gateway's JSON 405 (a known path) or 404 (an unknown one), not a server error
    assert response.status == status
    assert body["message"] in ("Method Not Allowed", "Not Found")


def test_any_printable_context_is_served_as_the_homepage_over_http(published: LocalApiServer) -> None:
    # Given a context with a space and a slash / When the frontend asks
    status, body, _ = _get(published, userId=RICH_USER, context="home page/Angebote")
    # Then it is served like the homepage
    assert status == 200
    assert body["source"] == "user"


@pytest.mark.parametrize(
    ("query", "holds"),
    [
        ({"brand": "ACME"}, lambda n: _brand(n) == "acme"),
        ({"brand": "acme,globex"}, lambda n: _brand(n) in {"acme", "globex"}),
        ({"minPrice": "10", "maxPrice": "20"}, lambda n: 10 <= n + 0.5 <= 20),
        ({"tag": "Eco"}, lambda n: "eco" in _tags(n)),
        ({"category": "cat_b"}, lambda n: n >= 30),
        ({"categories": "cat_a,cat_b"}, lambda n: True),
        ({"exclude": f"{sku(0)},{sku(1)},{sku(2)}"}, lambda n: n > 2),
        (
            {"brand": "acme", "maxPrice": "30", "exclude": sku(3)},
            lambda n: _brand(n) == "acme" and n < 30 and n != 3,
        ),
    ],
)
def test_each_filter_holds_over_http(
    published: LocalApiServer, query: dict[str, str], holds: Callable[[int], bool]
) -> None:
    # Given a published version with brands, prices and tags
    # When an anonymous shopper's homepage is asked for through the API with the filter
    status, body, _ = _get(published, anonId="anon_filters", limit="5", **query)
    # Then a full list comes back and every product meets the filter
    assert status == 200, body
    numbers = [int(str(p["id"])[4:]) for p in _products(body)]
    assert len(numbers) == 5
    assert all(holds(n) for n in numbers), (query, numbers)
