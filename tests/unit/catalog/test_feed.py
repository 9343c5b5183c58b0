"""The catalog feed: the export parsed with attributes, new products found against the serving
model, their lists built, and serving switched to them with one availability write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recs.catalog.feed import CatalogFeed, attribute_similar_lists, likeness, new_arrival_lists, new_products
from recs.catalog.products import CatalogFormatError, Product, parse_catalog
from recs.store_layout import (
    ATTRIBUTES_PK,
    AVAILABILITY_KEY,
    CATALOG_OBJECT_KEY,
    CATALOG_PK,
    POINTER_KEY,
    category_map_payload,
    decode_attribute_map,
    decode_availability,
    decode_category_map,
    decode_items,
    version_sk,
)
from recs_tools.memory_objects import MemoryObjects
from tests.unit.privacy.fakes import MemoryTable

NOW = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def _lines(*rows: dict[str, object]) -> list[str]:
    return [json.dumps(row) for row in rows]


def test_the_export_is_parsed_with_brand_attributes_tags_and_price() -> None:
    # Given a line with every described field, one with only an id, and a blank line
    products = parse_catalog(
        [
            json.dumps(
                {
                    "id": "sku_1",
                    "category": "shoes",
                    "brand": " Acme ",
                    "price": 49.0,
                    "attributes": {"Colour": "Red", "size": ["40", 41]},
                    "tags": ["Eco"],
                    "addedAt": "2026-11-20T07:00:00Z",
                    "unknownField": 1,
                }
            ),
            "",
            json.dumps({"id": "sku_2", "available": False, "price": "cheap"}),
        ]
    )
    # Then the attributes are normalised pairs, and missing fields are None
    first, second = products
    assert first == Product(
        id="sku_1",
        category="shoes",
        available=True,
        price=49.0,
        brand="acme",
        attributes=frozenset({"colour=red", "size=40", "size=41", "tag=eco"}),
        added_at="2026-11-20T07:00:00Z",
        tags=("eco",),
    )
    assert second == Product(id="sku_2", available=False)


@pytest.mark.parametrize("line", ["not json", json.dumps(["sku_1"]), json.dumps({"id": 7})])
def test_a_broken_line_is_refused_naming_its_number(line: str) -> None:
    with pytest.raises(CatalogFormatError, match="catalog line 2"):
        parse_catalog([json.dumps({"id": "ok"}), line])


def test_new_products_are_the_available_unknown_ones_newest_first() -> None:
    # Given a catalog with known, unavailable, dated and undated products
    products = [
        Product("known"),
        Product("undated"),
        Product("old", added_at="2026-11-01T00:00:00Z"),
        Product("gone", available=False),
        Product("newest", added_at="2026-11-19T00:00:00Z"),
    ]
    # When new products are found against the serving model's items
    fresh = new_products(products, known={"known"})
    # Then dated ones come newest first, then the undated in export order; nothing else
    assert [p.id for p in fresh] == ["newest", "old", "undated"]


def test_new_arrival_lists_exist_overall_and_per_category_with_falling_scores() -> None:
    fresh = [Product("a", category="x"), Product("b", category="y"), Product("c")]
    lists = new_arrival_lists(fresh, length=2)
    assert [p for p, _, _ in lists["NEW#*"]] == ["a", "b"]
    assert [p for p, _, _ in lists["NEW#x"]] == ["a"]
    assert lists["NEW#*"][0][1] > lists["NEW#*"][1][1]
    assert {reason for items in lists.values() for _, _, reason in items} == {"new-arrival"}


def test_similar_items_by_attributes_prefer_brand_then_attributes_then_price() -> None:
    # Given a new product and others of its category: same brand, shared attributes, close price
    new = Product("new", category="shoes", brand="acme", price=50.0, attributes=frozenset({"colour=red"}))
    catalog = [
        new,
        Product("far-price", category="shoes", price=500.0),
        Product("same-colour", category="shoes", price=55.0, attributes=frozenset({"colour=red"})),
        Product("same-brand", category="shoes", brand="acme", price=300.0),
        Product("other-category", category="hats", brand="acme", price=50.0),
        Product("unavailable", category="shoes", brand="acme", available=False),
    ]
    # When its similar items are built
    (items,) = attribute_similar_lists([new], catalog, length=10).values()
    # Then same brand ranks first, then shared attributes, then price; never itself, another
    # category or an unavailable product; the first scores 1 and scores never increase
    assert [p for p, _, _ in items] == ["same-brand", "same-colour", "far-price"]
    scores = [s for _, s, _ in items]
    assert scores[0] == 1.0
    assert scores == sorted(scores, reverse=True)
    assert likeness(new, catalog[2]) > likeness(new, catalog[1])


def _feed(objects: MemoryObjects, table: MemoryTable) -> CatalogFeed:
    return CatalogFeed(objects, table, lambda: NOW, list_length=10, ttl_days=30, max_new_products=100)


def test_an_upload_switches_serving_to_new_lists_and_fresh_availability_in_one_write() -> None:
    # Given a serving model that knows sku_1..sku_3, and an export that adds sku_9, marks sku_2
    # unavailable and no longer lists sku_3
    table = MemoryTable()
    table.put({"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": "v1", "generatedAt": "g"})
    objects = MemoryObjects(
        {
            "models/v1/model/ids.json": json.dumps({"items": ["sku_1", "sku_2", "sku_3"]}).encode(),
            CATALOG_OBJECT_KEY: "\n".join(
                _lines(
                    {"id": "sku_1", "category": "c"},
                    {"id": "sku_2", "category": "c", "available": False},
                    {"id": "sku_9", "category": "c", "addedAt": "2026-11-20T06:00:00Z"},
                )
            ).encode(),
        }
    )
    # When the feed runs
    report = _feed(objects, table).refresh(CATALOG_OBJECT_KEY)
    # Then availability names what must not be served, and the new catalog version serving reads
    availability = table.get(*AVAILABILITY_KEY)
    assert availability is not None
    assert decode_availability([availability]) == ["sku_2", "sku_3"]
    assert availability["catalogVersion"] == report.catalogVersion == "c20261120T083000.000Z"
    sk = version_sk(report.catalogVersion)
    new_row = table.get("NEW#*", sk)
    similar_row = table.get("ASIM#sku_9", sk)
    categories = table.get(CATALOG_PK, sk)
    assert new_row is not None
    assert similar_row is not None
    assert categories is not None
    assert [p for p, _, _ in decode_items(new_row["d"])] == ["sku_9"]
    assert [p for p, _, _ in decode_items(similar_row["d"])] == ["sku_1"]
    assert decode_category_map(category_map_payload([categories])) == {
        "sku_1": "c",
        "sku_2": "c",
        "sku_9": "c",
    }
    assert new_row["expiresAt"] == int(NOW.timestamp()) + 30 * 86_400
    assert (report.products, report.unavailable, report.newProducts) == (3, 2, 1)


def test_an_upload_publishes_the_brand_and_price_of_every_product_for_serving_filters() -> None:
    # Given an export with a new product's brand and price, a known product's price, a product with
    # neither and one with a tag only
    table = MemoryTable()
    objects = MemoryObjects(
        {
            CATALOG_OBJECT_KEY: "\n".join(
                _lines(
                    {"id": "sku_1", "category": "c", "brand": "Acme", "price": 20},
                    {"id": "sku_2", "category": "c", "price": 7.5},
                    {"id": "sku_3", "category": "c"},
                    {"id": "sku_4", "category": "d", "tags": ["Eco"]},
                )
            ).encode()
        }
    )
    # When the feed runs
    report = _feed(objects, table).refresh(CATALOG_OBJECT_KEY)
    # Then the catalog version has an attribute map serving's brand, price and tag filters read
    first = table.get(ATTRIBUTES_PK, version_sk(report.catalogVersion))
    assert first is not None
    decoded = decode_attribute_map(category_map_payload([first]))
    assert decoded.products == {
        "sku_1": ["acme", 20.0, ()],
        "sku_2": [None, 7.5, ()],
        "sku_4": [None, None, ("eco",)],
    }
    assert decoded.brand_categories == {"acme": ["c"]}
    assert decoded.tag_categories == {"eco": ["d"]}
    # And its price bands name the categories of each band (sku_2 at 7.5, sku_1 at 20)
    assert decoded.price_bands.categories_within(5.0, 10.0) == {"c": 1}
    assert decoded.price_bands.categories_within(None, None) == {"c": 2}


def test_before_any_model_or_with_a_lists_only_one_every_product_is_new() -> None:
    # Given no pointer at all, then a lists-only pointer (a new shop's refused first run)
    lists_only = {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": "v1", "listsOnly": True}
    for pointer in (None, lists_only):
        table = MemoryTable()
        if pointer:
            table.put(pointer)
        objects = MemoryObjects({CATALOG_OBJECT_KEY: "\n".join(_lines({"id": "a"}, {"id": "b"})).encode()})
        # When the feed runs / Then both products are new arrivals
        assert _feed(objects, table).refresh().newProducts == 2


def test_a_failed_write_leaves_availability_and_the_serving_catalog_version_as_they_were() -> None:
    # Given a table that refuses batch writes
    table = MemoryTable()
    table.fail_on.add("put_many")
    objects = MemoryObjects({CATALOG_OBJECT_KEY: json.dumps({"id": "a"}).encode()})
    # When the feed runs / Then it raises, and availability was never touched
    with pytest.raises(Exception, match="throttled"):
        _feed(objects, table).refresh()
    assert table.get(*AVAILABILITY_KEY) is None
