"""Tag filters and category paths through the recommend handler on the local stack: the tags of
the version's attribute map (training's, the catalog feed's over it), any of several tags, an
unknown tag, a tag beyond the shop-wide lists, maps without tags; a parent category served from
its subcategories' lists, whole path segments only, flat categories as before."""

from __future__ import annotations

import json

from recs.store_layout import (
    ATTRIBUTES_PK,
    CATALOG_OBJECT_KEY,
    version_sk,
)
from tests.integration.serving.world import (
    ANONYMOUS,
    EXPIRES,
    VERSION,
    World,
    category_of,
    ids,
    numbers,
    path_of,
    reasons,
    sku,
)


def tags_of(n: int) -> tuple[str, ...]:
    """eco: 0, 5, 10, ...; sale: 1, 6, 11, ...; both: 2, 7, 12, ...; none: the others."""
    return {0: ("eco",), 1: ("sale",), 2: ("eco", "sale")}.get(n % 5, ())


def brand_of(n: int) -> str | None:
    return "acme" if n % 2 == 0 else None


def with_tags(world: World) -> World:
    world.attributes({sku(n): (brand_of(n), float(n + 1), tags_of(n)) for n in range(60)})
    return world


# -- tags -------------------------------------------------------------------------------------
def test_a_tag_filter_serves_only_that_tag_matched_in_any_case_and_the_list_is_full(world: World) -> None:
    # Given the version's attribute map with tags (eco: 24 of the 60 products)
    with_tags(world)
    # When an anonymous visitor asks for 10 "ECO" products
    status, body, _ = world.ask(ANONYMOUS, tag="ECO", limit="10")
    # Then 10 come, every one tagged eco
    assert status == 200
    assert len(ids(body)) == 10
    assert all("eco" in tags_of(n) for n in numbers(body))


def test_several_tags_pass_products_with_any_of_them(world: World) -> None:
    # Given eco, sale, eco-and-sale and untagged products
    with_tags(world)
    # When asked for eco or sale, 60 at most
    status, body, _ = world.ask(ANONYMOUS, tag="eco,Sale", limit="60")
    # Then every product with either tag comes (popular and trending together know all), no other
    assert status == 200
    assert sorted(numbers(body)) == [n for n in range(60) if n % 5 in (0, 1, 2)]


def test_an_unknown_tag_answers_an_empty_list_as_an_unknown_brand_does(world: World) -> None:
    # Given the attribute map with tags
    with_tags(world)
    # When asked for a tag no product has
    status, body, _ = world.ask(ANONYMOUS, tag="vintage", limit="10")
    # Then the answer is an empty 200 (no product is known to pass; not the caller's mistake)
    assert status == 200
    assert ids(body) == []


def test_tags_combine_with_brand_price_and_category(world: World) -> None:
    # Given the attribute map (acme: even numbers; price n + 1)
    with_tags(world)
    # When asked for eco acme products of cat_b priced up to 50
    status, body, _ = world.ask(
        ANONYMOUS, tag="eco", brand="acme", category="cat_b", maxPrice="50", limit="20"
    )
    # Then only products every filter allows come: eco (n % 5 in 0, 2), even, 30..49
    assert status == 200
    assert sorted(numbers(body)) == [n for n in range(30, 50) if n % 5 in (0, 2) and n % 2 == 0]
    assert {category_of(n) for n in numbers(body)} == {"cat_b"}


def test_a_tag_beyond_the_shop_wide_lists_is_found_in_its_categorys_lists(world: World) -> None:
    # Given a version without trending lists, whose popular list (sku_00000..39) holds none of
    # the 20 "limited" products (sku_00040..59, cat_b): only cat_b's own list has them
    world.publish_everything(skip=("trending",), version="v2", pointer=False)
    world.attributes({sku(n): (None, None, ("limited",)) for n in range(40, 60)}, version="v2")
    world.flip("v2")
    # When an anonymous visitor asks for 15 limited products
    status, body, _ = world.ask(ANONYMOUS, tag="limited", limit="15")
    # Then the list is full, from cat_b's list (the tag's category, merged into popular)
    assert status == 200
    assert len(ids(body)) == 15
    assert set(numbers(body)) <= set(range(40, 60))
    assert set(reasons(body)) == {"category-popular"}


def test_a_version_without_an_attribute_map_answers_a_tag_filter_with_an_empty_list(world: World) -> None:
    # Given the world's version, published without an attribute map
    # When asked with a tag filter, and without
    status, tagged, _ = world.ask(ANONYMOUS, tag="eco")
    _, plain, _ = world.ask(ANONYMOUS, limit="10")
    # Then the tagged list is empty (an empty 200, as a brand filter's), the plain one as always
    assert status == 200
    assert ids(tagged) == []
    assert ids(plain) == [sku(n) for n in range(10)]


def test_a_map_written_before_tags_answers_a_tag_filter_with_an_empty_list(world: World) -> None:
    # Given a map written before tags were kept (brand and price only, plain JSON)
    old = {"fields": ["brand", "price"], "products": {sku(n): ["acme", 1.0] for n in range(60)}}
    world.models.put(
        {
            "pk": ATTRIBUTES_PK,
            "sk": version_sk(VERSION),
            "v": VERSION,
            "expiresAt": EXPIRES,
            "d": json.dumps(old),
        }
    )
    # When asked for a tag, and for its brand
    status, tagged, _ = world.ask(ANONYMOUS, tag="eco")
    _, branded, _ = world.ask(ANONYMOUS, brand="acme", limit="10")
    # Then the tag filter finds nothing (an empty 200), while the old map still serves its brands
    assert status == 200
    assert ids(tagged) == []
    assert len(ids(branded)) == 10


def test_the_catalog_feeds_tags_serve_at_once_over_the_last_runs(world: World) -> None:
    # Given training's map, where sku_00003 has no tag
    with_tags(world)
    _, before, _ = world.ask(ANONYMOUS, tag="gift", limit="10")
    assert ids(before) == []
    # When the shop uploads an export tagging sku_00003 "Gift" (the catalog feed runs)
    export = [{"id": sku(n), "category": category_of(n), "tags": list(tags_of(n))} for n in range(60)]
    export[3]["tags"] = ["Gift"]
    body = "\n".join(json.dumps(product) for product in export).encode()
    world.stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, body)
    world.service()._repo._control = None  # the next request reads the new catalog version
    status, after, _ = world.ask(ANONYMOUS, tag="gift", limit="10")
    # Then the same request serves it
    assert status == 200
    assert numbers(after) == [3]


# -- category paths (world.path_of) -------------------------------------------------------------
def test_a_parent_category_serves_its_subcategories_products_and_the_list_is_full(world: World) -> None:
    # Given lists per leaf category only: home/kitchen has none of its own
    world.publish_category_paths()
    # When asked for 30 products of home/kitchen (each leaf list holds 20)
    status, body, _ = world.ask(ANONYMOUS, category="home/kitchen", limit="30")
    # Then 30 come, from both its subcategories, none of home/kitchenware or garden
    assert status == 200
    assert len(ids(body)) == 30
    assert {path_of(n) for n in numbers(body)} == {"home/kitchen/knives", "home/kitchen/pans"}


def test_a_top_level_category_holds_every_level_below_it(world: World) -> None:
    # Given the path categories
    world.publish_category_paths()
    # When asked for everything of home
    status, body, _ = world.ask(ANONYMOUS, category="home", limit="100")
    # Then its 50 products come (knives, pans, kitchenware), none of garden
    assert status == 200
    assert sorted(numbers(body)) == list(range(50))


def test_a_partial_segment_matches_nothing_and_is_an_unknown_category(world: World) -> None:
    # Given the path categories
    world.publish_category_paths()
    # When asked for home/kit (a prefix of home/kitchen, but not a whole segment)
    status, body, _ = world.ask(ANONYMOUS, category="home/kit", limit="10")
    # Then it is an unknown category: 404 naming category, as any category without lists
    assert status == 404
    assert "category" in json.dumps(body)


def test_leaf_and_flat_categories_keep_their_exact_lists(world: World) -> None:
    # Given the path categories
    world.publish_category_paths()
    # When asked for a leaf, a flat category and a leaf with a flat one
    _, leaf, _ = world.ask(ANONYMOUS, category="home/kitchen/pans", limit="100")
    _, flat, _ = world.ask(ANONYMOUS, category="garden", limit="100")
    _, both, _ = world.ask(ANONYMOUS, categories="home/kitchenware,garden", limit="100")
    # Then each holds exactly its own products (home/kitchenware is not below home/kitchen)
    assert sorted(numbers(leaf)) == list(range(20, 40))
    assert sorted(numbers(flat)) == list(range(50, 60))
    assert sorted(numbers(both)) == list(range(40, 60))
