"""Brand and price filters through the recommend handler on the local stack: the version's
attribute map (training's, the catalog feed's over it), each filter and their combinations,
products of unknown brand or price, versions published before attribute maps, lists kept full."""

from __future__ import annotations

import hashlib
import json

from recs.store_layout import CATALOG_OBJECT_KEY, attribute_map_rows
from tests.integration.serving.world import (
    ANONYMOUS,
    EXPIRES,
    GENERATED_AT,
    RICH_LIST,
    VERSION,
    World,
    category_of,
    ids,
    numbers,
    reasons,
    sku,
)


def brand_of(n: int) -> str | None:
    """acme: 0, 3, 6, ...; globex: 1, 4, 7, ...; no brand: 2, 5, 8, ..."""
    return {0: "acme", 1: "globex"}.get(n % 3)


def price_of(n: int) -> float | None:
    """n + 0.5, unknown for 7, 17, 27, ..."""
    return None if n % 10 == 7 else n + 0.5


def with_attributes(world: World) -> World:
    world.attributes({sku(n): (brand_of(n), price_of(n)) for n in range(60)})
    return world


def test_a_brand_filter_serves_only_that_brand_matched_in_any_case_and_the_list_is_full(world: World) -> None:
    # Given the version's attribute map (acme: every third product)
    with_attributes(world)
    # When an anonymous visitor asks for 10 of "Acme"
    status, body, _ = world.ask(ANONYMOUS, brand="Acme", limit="10")
    # Then 10 products come, every one acme (the catalog's brands are lower-cased; the filter too)
    assert status == 200
    assert len(ids(body)) == 10
    assert {brand_of(n) for n in numbers(body)} == {"acme"}


def test_several_brands_keep_only_theirs_and_products_of_unknown_brand_never_pass(world: World) -> None:
    # Given acme, globex and brandless products
    with_attributes(world)
    # When asked for acme or globex, 60 at most
    status, body, _ = world.ask(ANONYMOUS, brand="acme,GLOBEX", limit="60")
    # Then all 40 of those brands come (popular and trending together know every product), no other
    assert status == 200
    assert sorted(numbers(body)) == [n for n in range(60) if n % 3 in (0, 1)]


def test_a_price_range_keeps_its_bounds_and_leaves_out_products_of_unknown_price(world: World) -> None:
    # Given prices n + 0.5, unknown for sku_00017
    with_attributes(world)
    # When asked for 10 to 20.5, at most 3, and at least 55
    status, ranged, _ = world.ask(ANONYMOUS, minPrice="10", maxPrice="20.5", limit="20")
    _, cheap, _ = world.ask(ANONYMOUS, maxPrice="3", limit="20")
    _, dear, _ = world.ask(ANONYMOUS, minPrice="55", limit="20")
    # Then each list holds exactly the products in its range whose price is known (short only
    # because the catalog has no more)
    assert status == 200
    assert sorted(numbers(ranged)) == [10, 11, 12, 13, 14, 15, 16, 18, 19, 20]
    assert sorted(numbers(cheap)) == [0, 1, 2]
    assert sorted(numbers(dear)) == [55, 56, 58, 59]


def test_a_price_filter_from_zero_leaves_out_only_products_without_a_price(world: World) -> None:
    # Given six products of unknown price (7, 17, ..., 57)
    with_attributes(world)
    # When asked for every product priced 0 or more
    _, body, _ = world.ask(ANONYMOUS, minPrice="0", limit="100")
    # Then the 54 others come, none of unknown price
    assert sorted(numbers(body)) == [n for n in range(60) if n % 10 != 7]


def test_brand_price_category_and_exclude_combine(world: World) -> None:
    # Given the attribute map
    with_attributes(world)
    # When asked for acme in cat_b from 10 to 40, not sku_00033; and for globex of cat_a or cat_b up to 5
    status, acme, _ = world.ask(
        ANONYMOUS, brand="acme", category="cat_b", minPrice="10", maxPrice="40", exclude=sku(33), limit="20"
    )
    _, globex, _ = world.ask(ANONYMOUS, brand="globex", categories="cat_a,cat_b", maxPrice="5", limit="20")
    # Then only the products every filter allows are served
    assert status == 200
    assert sorted(numbers(acme)) == [30, 36, 39]
    assert {category_of(n) for n in numbers(acme)} == {"cat_b"}
    assert sorted(numbers(globex)) == [1, 4]


def test_a_filtered_personal_list_is_filled_from_the_shop_wide_lists_after_the_users_own(
    world: World,
) -> None:
    # Given the rich user, whose own list (sku_00045..54) holds three globex products
    with_attributes(world)
    own_globex = [p for p, _, _ in RICH_LIST if brand_of(int(p[4:])) == "globex"]
    # When their homepage asks for 10 globex products
    status, body, _ = world.ask("recommend_homepage", brand="globex", limit="10")
    # Then their own come first, and popular and trending fill the list up to 10, all globex
    assert status == 200
    assert body["source"] == "user"
    assert ids(body)[:3] == own_globex
    assert len(ids(body)) == 10
    assert {brand_of(n) for n in numbers(body)} == {"globex"}


def test_a_brand_beyond_the_shop_wide_lists_is_found_in_its_categorys_lists(world: World) -> None:
    # Given a version without trending lists, whose popular list (sku_00000..39) holds none of
    # zeta's 20 products (sku_00040..59, cat_b): only cat_b's own popular list has them
    world.publish_everything(skip=("trending",), version="v2", pointer=False)
    world.attributes({sku(n): ("zeta", 1.0) for n in range(40, 60)}, version="v2")
    world.flip("v2")
    # When an anonymous visitor asks for 15 zeta products
    status, body, _ = world.ask(ANONYMOUS, brand="zeta", limit="15")
    # Then the list is full, from cat_b's list (zeta's category, merged into popular)
    assert status == 200
    assert len(ids(body)) == 15
    assert set(numbers(body)) <= set(range(40, 60))
    assert set(reasons(body)) == {"category-popular"}


def test_a_price_range_beyond_the_shop_wide_lists_is_found_in_its_bands_categories(world: World) -> None:
    # Given a version without trending lists, whose popular list (sku_00000..39, priced 1) holds
    # none of the 20 products priced 100 (sku_00040..59, cat_b): only cat_b's own list has them
    world.publish_everything(skip=("trending",), version="v2", pointer=False)
    prices = {sku(n): (None, 100.0 if n >= 40 else 1.0) for n in range(60)}
    world.attributes(prices, version="v2")
    world.flip("v2")
    # When an anonymous visitor asks for 15 products from 50 up
    status, body, _ = world.ask(ANONYMOUS, minPrice="50", limit="15")
    # Then the list is full, from cat_b's list (the category of the range's price band)
    assert status == 200
    assert len(ids(body)) == 15
    assert set(numbers(body)) <= set(range(40, 60))
    assert set(reasons(body)) == {"category-popular"}


def test_a_version_published_before_attribute_maps_still_serves(world: World) -> None:
    # Given the world's version, published without an attribute map
    # When asked with a brand filter, a price filter, and without either
    status, branded, _ = world.ask(ANONYMOUS, brand="acme")
    priced, ranged, _ = world.ask(ANONYMOUS, minPrice="1")
    plain_status, plain, _ = world.ask(ANONYMOUS, limit="10")
    # Then the filtered lists are empty (no product is known to pass), and the plain one is as always
    assert (status, priced) == (200, 200)
    assert ids(branded) == ids(ranged) == []
    assert plain_status == 200
    assert ids(plain) == [sku(n) for n in range(10)]


def test_a_large_catalogs_attribute_map_in_several_rows_serves_the_brand_filter(world: World) -> None:
    # Given an attribute map of 60,000 products (the world's 60, then 59,940 more), several rows
    # each under DynamoDB's item limit (ids that look like real SKUs compress far less)
    more = {
        "sku_" + hashlib.sha1(str(n).encode()).hexdigest()[:16]: (f"brand_{n % 500}", float(n % 1000))
        for n in range(59_940)
    }
    attributes = {sku(n): (brand_of(n), price_of(n)) for n in range(60)} | more
    rows = attribute_map_rows(attributes, {}, VERSION, GENERATED_AT, EXPIRES)
    assert len(rows) > 1
    world.models.put_many(rows)  # moto refuses any item over 400 KB, as DynamoDB does
    # When acme is asked for (nothing read yet: no memory or cache copy)
    status, body, _ = world.ask(ANONYMOUS, brand="acme", limit="10")
    # Then the map was read whole from its rows: 10 acme products
    assert status == 200
    assert len(ids(body)) == 10
    assert {brand_of(n) for n in numbers(body)} == {"acme"}


def test_the_catalog_feeds_brands_and_prices_serve_at_once_over_the_last_runs(world: World) -> None:
    # Given training's attribute map (sku_00001 is globex at 1.5)
    with_attributes(world)
    _, before, _ = world.ask(ANONYMOUS, brand="acme", maxPrice="2", limit="10")
    assert numbers(before) == [0]
    # When the shop uploads an export where sku_00001 is now Acme's, at 2.0 (the catalog feed runs)
    export = [
        {"id": sku(n), "category": category_of(n), "brand": brand_of(n), "price": price_of(n)}
        for n in range(60)
    ]
    export[1].update(brand="Acme", price=2.0)
    body = "\n".join(json.dumps(product) for product in export).encode()
    world.stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, body)
    world.service()._repo._control = None  # the next request reads the new catalog version
    status, after, _ = world.ask(ANONYMOUS, brand="acme", maxPrice="2", limit="10")
    # Then the same request serves it as acme's
    assert status == 200
    assert sorted(numbers(after)) == [0, 1]
