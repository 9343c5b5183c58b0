"""Tag filters and category paths: the check per product, the tags in the attribute map (a tag
dictionary and per-product indices), a map written before tags, the whole-segment path prefix
and the subcategories whose lists a parent category merges."""

from __future__ import annotations

import json
import zlib
from base64 import b64decode

from recs.catalog.products import parse_catalog
from recs.serving import service
from recs.serving.ranking import Filters, category_counts, fill, in_categories, subcategories
from recs.store_layout import (
    Attributes,
    AttributeSource,
    attribute_map_rows,
    category_map_payload,
    decode_attribute_map,
)
from tests.unit.serving.attribute_maps import VERSION, read_back

Items = list[tuple[str, float, str | None]]
#: p0 eco; p1 eco and sale; p2 sale; p3 no tags (a brand only); p4 not in the map at all.
ATTRIBUTES: dict[str, AttributeSource] = {
    "p0": ("acme", 10.0, ("eco",)),
    "p1": (None, 20.0, ("sale", "eco")),
    "p2": ("globex", None, ("sale",)),
    "p3": ("acme", 5.0, ()),
}
CATEGORIES = {"p0": "home/kitchen", "p1": "home/garden", "p2": "home/kitchen", "p3": "toys"}


def decoded_products() -> dict[str, Attributes]:
    return read_back(ATTRIBUTES, CATEGORIES).products


def test_a_tag_filter_passes_products_with_any_of_the_tags_and_never_those_without() -> None:
    # Given the attribute map as serving reads it
    products = decoded_products()
    # When filtered on eco, and on eco or sale
    eco = Filters(tags=frozenset({"eco"}), attributes=products)
    either = Filters(tags=frozenset({"eco", "sale"}), attributes=products)
    # Then eco keeps p0 and p1; either keeps every tagged product; untagged and unknown never pass
    assert [p for p in ("p0", "p1", "p2", "p3", "p4") if eco.allows(p, None)] == ["p0", "p1"]
    assert [p for p in ("p0", "p1", "p2", "p3", "p4") if either.allows(p, None)] == ["p0", "p1", "p2"]


def test_the_catalogs_tags_are_matched_whatever_their_case_in_the_export() -> None:
    # Given a product the export tags " Eco " (the catalog feed and training lower-case and trim it)
    product = parse_catalog(['{"id": "p9", "tags": [" Eco ", "ECO", "", 7, "Sale"]}'])[0]
    attributes: dict[str, AttributeSource] = {product.id: (None, None, product.tags)}
    products = read_back(attributes, {}).products
    # When a request asks for "ECO" (the query lower-cases it too, `RecommendationQuery`)
    filters = Filters(tags=frozenset({"eco"}), attributes=products)
    # Then the product passes, its tags distinct and in the export's order
    assert product.tags == ("eco", "sale")
    assert filters.allows("p9", None)


def test_tags_combine_with_brand_price_and_category() -> None:
    # Given eco products of acme in home/kitchen at 5 or more
    filters = Filters(
        tags=frozenset({"eco"}),
        brands=frozenset({"acme"}),
        min_price=5.0,
        categories=frozenset({"home"}),
        catalog=CATEGORIES,
        attributes=decoded_products(),
    )
    popular: Items = [(p, 10.0 - n, "popular") for n, p in enumerate(("p0", "p1", "p2", "p3", "p4"))]
    # When a list of every product is filled / Then only p0 passes every filter
    assert [p for p, _, _ in fill([("popular", lambda: popular)], 10, filters).products] == ["p0"]


def test_the_map_writes_each_tag_once_and_products_name_theirs_by_index() -> None:
    # Given the catalog's attributes with tags
    rows = attribute_map_rows(ATTRIBUTES, CATEGORIES, VERSION, "g", 99)
    # When the stored payload is read raw
    row = rows[0]
    raw = zlib.decompress(b64decode(row["d"])) if row.get("enc") else str(row["d"]).encode()
    payload = json.loads(raw)
    # Then the tags are a sorted dictionary, each product naming its own by index (null: none)
    assert payload["fields"] == ["brand", "price", "tags"]
    assert payload["tags"] == ["eco", "sale"]
    assert payload["products"] == {
        "p0": ["acme", 10.0, [0]],
        "p1": [None, 20.0, [1, 0]],
        "p2": ["globex", None, [1]],
        "p3": ["acme", 5.0, None],
    }
    # And each tag names its categories, most of its products first (ties by name)
    assert payload["tagCategories"] == {
        "eco": ["home/garden", "home/kitchen"],
        "sale": ["home/garden", "home/kitchen"],
    }
    # And decoded, each product's tags are strings again
    assert decode_attribute_map(category_map_payload(rows)).products["p1"] == [None, 20.0, ("sale", "eco")]


def test_a_map_written_before_tags_has_none_and_a_tag_filter_passes_nothing() -> None:
    # Given a map with only brand and price (written before tags were kept)
    payload = b'{"fields":["brand","price"],"products":{"p":["acme",9.5]},"brandCategories":{"acme":["x"]}}'
    decoded = decode_attribute_map(payload)
    # When filtered on a tag, and on the brand
    tagged = Filters(tags=frozenset({"eco"}), attributes=decoded.products)
    branded = Filters(brands=frozenset({"acme"}), attributes=decoded.products)
    # Then the tag filter passes nothing (as a brand filter on a map without brands), the brand
    # filter is unaffected, and no tag has categories to deepen with
    assert not tagged.allows("p", None)
    assert branded.allows("p", None)
    assert decoded.tag_categories == {}


def test_a_category_path_holds_the_categories_below_it_on_whole_segments_only() -> None:
    # Given a filter on home/kitchen
    wanted = frozenset({"home/kitchen"})
    # Then itself and every category below it pass
    assert in_categories("home/kitchen", wanted)
    assert in_categories("home/kitchen/knives", wanted)
    assert in_categories("home/kitchen/knives/chef", wanted)
    # And a partial segment, a sibling, a parent or no category never do
    assert not in_categories("home/kitchenware", wanted)
    assert not in_categories("home/garden", wanted)
    assert not in_categories("home", wanted)
    assert not in_categories(None, wanted)
    # And "home/kit" matches nothing of home/kitchen; a flat category matches exactly, as before
    assert not in_categories("home/kitchen/knives", frozenset({"home/kit"}))
    assert in_categories("shoes", frozenset({"shoes"}))
    assert not in_categories("shoes-sale", frozenset({"shoes"}))


def test_a_category_filter_keeps_the_products_of_its_subcategories() -> None:
    # Given products in home/kitchen/knives, home/kitchenware and garden
    catalog = {"a": "home/kitchen/knives", "b": "home/kitchenware", "c": "garden", "d": "home/kitchen"}
    filters = Filters(categories=frozenset({"home/kitchen"}), catalog=catalog)
    # When checked / Then only the path's own and its subcategory's products pass
    assert [p for p in catalog if filters.allows(p, None)] == ["a", "d"]


def test_a_parents_subcategories_are_those_below_it_with_most_products_first_bounded() -> None:
    # Given home/kitchen's 10 subcategories (sub0 with 1 product ... sub9 with 10), its own
    # products, a partial-segment sibling and a deeper one
    catalog = {f"p{n}_{k}": f"home/kitchen/sub{n}" for n in range(10) for k in range(n + 1)}
    catalog |= {"own": "home/kitchen", "ware": "home/kitchenware", "deep": "home/kitchen/sub0/x"}
    counts = category_counts(catalog)
    # When up to 8 are kept
    kept = subcategories(counts, ["home/kitchen"], 8)
    # Then the 8 with most products, most first; never the parent itself nor the partial segment
    assert kept == [f"home/kitchen/sub{n}" for n in range(9, 1, -1)]
    # And with several parents, all of theirs compete; a flat category has none
    assert subcategories(counts, ["home/kitchen/sub0", "home/kitchen/sub1"], 8) == ["home/kitchen/sub0/x"]
    assert subcategories(category_counts({"a": "shoes", "b": "shoes-sale"}), ["shoes"], 8) == []


def test_a_maps_category_counts_are_taken_once_and_never_for_another_map() -> None:
    # Given a category map as the repository hands it to every request of its version
    first = {"a": "home/kitchen/knives", "b": "home/kitchen/pans", "c": "home/kitchen/pans"}
    assert service._subcategories([first], ("home",)) == ["home/kitchen/pans", "home/kitchen/knives"]
    # When the same map object is met again / Then its counts are the ones held, not a new scan
    held = service._COUNTS_BY_MAP[id(first)]
    assert held[0] is first
    assert service._category_counts(first) is held[1]
    # And another map (the catalog feed's) is counted on its own and summed with the run's
    feed = {"d": "home/kitchen/knives", "e": "home/kitchen/knives"}
    assert service._subcategories([first, feed], ("home/kitchen",)) == [
        "home/kitchen/knives",
        "home/kitchen/pans",
    ]
