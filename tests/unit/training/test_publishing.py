"""The rows a version publishes, in the shapes serving reads (recs.store_layout)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.sparse as sp

from recs.store_layout import (
    AVAILABILITY_KEY,
    availability_part_keys,
    availability_rows,
    catalog_part_keys,
    category_map_payload,
    decode_attribute_map,
    decode_availability,
    decode_category_map,
    decode_items,
)
from recs.training.fit.ranking import FactorScorer, rank
from recs.training.publish.publishing import catalog_rows, item_list_rows, purchased_rows, user_list_rows


def test_user_rows_carry_ids_scores_and_reasons_and_skip_empty_lists() -> None:
    # Given two users, the second with every item excluded
    scorer = FactorScorer(np.ones((2, 1), np.float32), np.array([[2.0], [1.0]], np.float32))
    exclude = sp.csr_matrix(np.array([[0, 0], [1, 1]], dtype=np.float32))
    boost = sp.csr_matrix(np.array([[0, 0.5], [0, 0]], dtype=np.float32))
    lists = rank(scorer, 2, exclude=exclude, boost=boost, boost_weight=0.1)
    # When rows are built
    rows = user_list_rows(["u_a", "u_b"], ["p1", "p2"], lists, "v1", "2026-11-01T00:00:00Z", 99)
    # Then only the first user has a row, keyed and stamped as serving expects
    assert [(r["pk"], r["sk"], r["v"], r["expiresAt"]) for r in rows] == [("U#u_a", "V#v1", "v1", 99)]
    items = decode_items(rows[0]["d"])
    assert [(p, reason) for p, _, reason in items] == [("p1", "similar-users"), ("p2", "buy-again")]


def test_purchased_rows_list_what_each_user_bought_most_often_first() -> None:
    # Given purchase days per user
    days = sp.csr_matrix(np.array([[1, 3], [0, 0]], dtype=np.float32))
    # When rows are built
    rows = purchased_rows(["u_a", "u_b"], ["p1", "p2"], days, "v1", "g", 99)
    # Then one row for the buyer, the most bought first, with no reason
    assert [r["pk"] for r in rows] == ["PURCHASED#u_a"]
    assert decode_items(rows[0]["d"]) == [("p2", 3.0, None), ("p1", 1.0, None)]


def test_item_list_rows_use_the_contract_reasons() -> None:
    # Given item lists as the train step stores them
    lists = {
        "similar": {"p1": [["p2", 0.9]]},
        "boughtTogether": {"p1": [["p3", 0.5]]},
        "popular": {"*": [["p1", 10]], "kitchen": [["p1", 10]]},
        "trending": {"*": [["p2", 3]]},
    }
    # When rows are built
    rows = {r["pk"]: decode_items(r["d"]) for r in item_list_rows(lists, "v1", "g", 99)}
    # Then each list has its key and reason
    assert rows == {
        "SIM#p1": [("p2", 0.9, "similar-items")],
        "BT#p1": [("p3", 0.5, "bought-together")],
        "POP#*": [("p1", 10.0, "popular")],
        "POP#kitchen": [("p1", 10.0, "category-popular")],
        "TREND#*": [("p2", 3.0, "trending")],
    }


def test_the_catalog_row_maps_products_to_categories_and_availability_is_written_from_the_export() -> None:
    # Given categories and the export's unavailable products
    rows = catalog_rows({"p2": "garden", "p1": "kitchen"}, ["p9"], "v1", "2026-11-01T00:00:00Z", 99)
    # Then the version's catalog row holds the map and the unversioned availability row the list
    assert rows[0]["pk"] == "CATALOG"
    assert rows[0]["sk"] == "V#v1"
    assert decode_category_map(category_map_payload(rows[:1])) == {"p1": "kitchen", "p2": "garden"}
    assert (rows[1]["pk"], rows[1]["sk"]) == AVAILABILITY_KEY
    assert decode_availability(rows[1:]) == ["p9"]
    # And without an export no availability row is written
    assert len(catalog_rows({}, None, "v1", "g", 99)) == 1


def test_a_large_catalogs_map_is_split_in_rows_that_each_fit_a_dynamodb_item() -> None:
    # Given a catalog of 500,000 products (its plain JSON map is about 12 MB; an item holds 400 KB)
    categories = {f"sku_{i:06d}": f"cat_{i % 50:03d}" for i in range(500_000)}
    # When its rows are built
    rows = catalog_rows(categories, None, "v1", "g", 99)
    # Then each stays well under DynamoDB's item limit, the first names how many parts there are,
    # and read back in order they are the whole map
    assert len(rows) > 1
    assert all(sum(len(str(k)) + len(str(v)) for k, v in row.items()) < 400_000 for row in rows)
    assert [row["pk"] for row in rows] == ["CATALOG"] + [f"CATALOG#{n}" for n in range(1, len(rows))]
    assert {row["parts"] for row in rows} == {len(rows)}
    assert decode_category_map(category_map_payload(rows)) == categories
    # And parts missing are an error, never half a map
    with pytest.raises(ValueError, match="parts"):
        category_map_payload(rows[:-1])


def test_the_catalogs_brands_and_prices_are_an_attribute_map_beside_the_category_map() -> None:
    # Given categories, and the brand and price of two products (Prepare's ids.json keeps them as lists)
    attributes: dict[str, list[object]] = {"p1": ["acme", 12.5], "p2": [None, 3.0]}
    # When the catalog rows are built
    rows = catalog_rows({"p1": "kitchen", "p2": "garden"}, None, "v1", "g", 99, attributes=attributes)
    # Then the category map comes first, then the version's ATTRS row with [brand, price] per product
    assert [(r["pk"], r["sk"]) for r in rows] == [("CATALOG", "V#v1"), ("ATTRS", "V#v1")]
    decoded = decode_attribute_map(category_map_payload(rows[1:]))
    # (prepared before tags were kept: [brand, price] only; the map then gives no tags)
    assert decoded.products == {"p1": ["acme", 12.5, ()], "p2": [None, 3.0, ()]}
    assert decoded.brand_categories == {"acme": ["kitchen"]}
    # And each price band names its categories (garden's p2 at 3, kitchen's p1 at 12.5)
    assert decoded.price_bands.categories_within(None, 5.0) == {"garden": 1}
    assert decoded.price_bands.categories_within(13.0, None) == {"kitchen": 1}
    # And without attributes (no export, or a run prepared before they were kept) no ATTRS row
    assert [r["pk"] for r in catalog_rows({"p1": "kitchen"}, None, "v1", "g", 99, attributes={})] == [
        "CATALOG"
    ]


def test_a_large_catalogs_attribute_map_is_split_in_rows_that_each_fit_a_dynamodb_item() -> None:
    # Given 300,000 products with ids, brands, prices and two tags each that do not compress like a counter
    def sku(n: int) -> str:
        return "sku_" + hashlib.sha1(str(n).encode()).hexdigest()[:16]

    tags = {sku(n): [f"t{n % 40}", f"u{n % 7}"] for n in range(300_000)}
    attributes: dict[str, list[object]] = {
        sku(n): [f"brand_{n % 997}", round(1 + (n * 7919) % 100_000 / 100, 2), tags[sku(n)]]
        for n in range(300_000)
    }
    categories = {sku(n): f"cat_{n % 50:03d}" for n in range(300_000)}
    # When its rows are built
    rows = catalog_rows(categories, None, "v1", "g", 99, attributes=attributes)
    attribute_rows = [row for row in rows if str(row["pk"]).startswith("ATTRS")]
    # Then each stays well under DynamoDB's item limit, parts keyed ATTRS, ATTRS#1, ...
    assert len(attribute_rows) > 1
    assert all(sum(len(str(k)) + len(str(v)) for k, v in row.items()) < 400_000 for row in rows)
    assert [row["pk"] for row in attribute_rows] == ["ATTRS"] + [
        f"ATTRS#{n}" for n in range(1, len(attribute_rows))
    ]
    assert catalog_part_keys(attribute_rows[0]) == [(row["pk"], "V#v1") for row in attribute_rows[1:]]
    # And read back in order they are the whole map; parts missing are an error, never half a map
    expected = {product: [*values[:2], tuple(tags[product])] for product, values in attributes.items()}
    assert decode_attribute_map(category_map_payload(attribute_rows)).products == expected
    with pytest.raises(ValueError, match="attribute map of v1: 1 of"):
        category_map_payload(attribute_rows[:1])


def test_a_long_availability_list_is_split_and_its_main_row_comes_last() -> None:
    # Given 200,000 sold-out products with ids that do not compress like a counter
    sold_out = sorted("sku_" + hashlib.sha1(str(n).encode()).hexdigest()[:16] for n in range(200_000))
    # When the availability rows are built
    rows = availability_rows(sold_out, "2026-11-01T00:00:00Z", catalog_version="c1")
    *parts, main = rows
    # Then every row fits a DynamoDB item, the main row is the unversioned key and comes last
    # (written after its parts), naming them by the content's stamp, and they expire long after
    assert parts
    assert all(sum(len(str(k)) + len(str(v)) for k, v in row.items()) < 400_000 for row in rows)
    assert (main["pk"], main["sk"]) == AVAILABILITY_KEY
    assert main["catalogVersion"] == "c1"
    assert [(p["pk"], p["sk"]) for p in parts] == availability_part_keys(main)
    assert all(p["expiresAt"] > 1_800_000_000 for p in parts)
    # And read back, main row first, they are the whole list; a missing part is an error
    assert decode_availability([main, *parts]) == sold_out
    with pytest.raises(ValueError, match="parts"):
        decode_availability([main, *parts[:-1]])
