"""Invalid parameters answer 400 with a body naming each bad field (never Powertools' 422)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import World


@pytest.fixture(scope="module")
def validating() -> Iterator[World]:
    """One stack for the module: validation reads and writes nothing, so tests cannot interfere."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        yield World(stack)


def _fields(body: dict[str, object]) -> list[str]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [e["field"] for e in errors]


@pytest.mark.parametrize(
    ("sample", "changes", "fields"),
    [
        ("recommend_bad_limit", {}, ["limit"]),
        ("recommend_limit_out_of_range", {}, ["limit"]),
        ("recommend_homepage", {"limit": "0"}, ["limit"]),
        ("recommend_bad_user_id", {}, ["userId"]),
        ("recommend_anonymous", {"anonId": "anon<script>"}, ["anonId"]),
        ("recommend_product_page", {"productId": "sku 1"}, ["productId"]),
        ("recommend_product_page_without_product", {}, ["productId"]),
        ("recommend_bad_cart", {}, ["cartProductIds"]),
        ("recommend_homepage", {"context": "x" * 65}, ["context"]),
        ("recommend_homepage", {"context": "home\tpage"}, ["context"]),
        ("recommend_homepage", {"limit": "abc", "userId": "a b"}, ["userId", "limit"]),
        ("recommend_product_page", {"currentProductId": "sku_00002"}, ["currentProductId"]),
        ("recommend_homepage", {"brand": "acme,"}, ["brand"]),
        ("recommend_homepage", {"brand": "ac\tme"}, ["brand"]),
        ("recommend_homepage", {"brand": ",".join(f"b{n}" for n in range(21))}, ["brand"]),
        ("recommend_homepage", {"brand": "acme,  "}, ["brand"]),
        ("recommend_homepage", {"tag": "eco,"}, ["tag"]),
        ("recommend_homepage", {"tag": "e\tco"}, ["tag"]),
        ("recommend_homepage", {"tag": ",".join(f"t{n}" for n in range(21))}, ["tag"]),
        ("recommend_homepage", {"tag": "x" * 129}, ["tag"]),
        ("recommend_homepage", {"tag": "eco,  "}, ["tag"]),
        ("recommend_homepage", {"minPrice": "-1"}, ["minPrice"]),
        ("recommend_homepage", {"minPrice": "cheap"}, ["minPrice"]),
        ("recommend_homepage", {"maxPrice": "nan"}, ["maxPrice"]),
        ("recommend_homepage", {"maxPrice": "inf"}, ["maxPrice"]),
        ("recommend_homepage", {"minPrice": "20", "maxPrice": "10"}, ["minPrice"]),
        ("recommend_homepage", {"minPrice": "-5", "maxPrice": "x"}, ["minPrice", "maxPrice"]),
    ],
)
def test_invalid_parameters_answer_400_naming_each_field(
    validating: World, sample: str, changes: dict[str, str], fields: list[str]
) -> None:
    # Given a request with the bad parameters (nothing needs to be published to validate)
    # When the recommend function handles it
    status, body, _ = validating.ask(sample, **changes)
    # Then it is a 400 in the common error shape naming exactly those fields
    assert status == 400
    assert body["message"] == "invalid request"
    assert sorted(_fields(body)) == sorted(fields)
    assert all(isinstance(e["reason"], str) and e["reason"] for e in body["errors"])
