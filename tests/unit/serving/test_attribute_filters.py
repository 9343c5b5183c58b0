"""Brand and price filters: the check per product, the attribute map serving reads for them (only
for a request that filters on brand or price), and candidates deep enough for a brand."""

from __future__ import annotations

from typing import Any

from recs.serving.experiments import Experiments
from recs.serving.query import RecommendationQuery
from recs.serving.ranking import Filters, fill
from recs.serving.repository import ListRepository
from recs.serving.service import Outcome, RecommendService, ServingOptions
from recs.serving.sources import Chains
from recs.store_layout import (
    ATTRIBUTES_PK,
    AVAILABILITY_KEY,
    POINTER_KEY,
    attribute_map_rows,
    category_map_payload,
    category_map_rows,
    decode_attribute_map,
    encode_items,
    popular_pk,
    trending_pk,
    version_sk,
)
from tests.unit.serving.attribute_maps import VERSION, read_back
from tests.unit.serving.test_repository import TTLS, Clock, FakeCache, FakeTable

FEED = "c1"
Items = list[tuple[str, float, str | None]]
#: p0..p5: acme (p0, p1 and p5 in kitchen; p2 in garden), globex (p3), no brand (p4).
ATTRIBUTES: dict[str, tuple[str | None, float | None]] = {
    "p0": ("acme", 10.0),
    "p1": ("acme", 25.0),
    "p2": ("acme", None),
    "p3": ("globex", 15.0),
    "p4": (None, 12.0),
    "p5": ("acme", 40.0),
}
CATEGORIES = {
    "p0": "kitchen",
    "p1": "kitchen",
    "p2": "garden",
    "p3": "kitchen",
    "p4": "garden",
    "p5": "kitchen",
}


def attributes_of(attributes: dict[str, tuple[str | None, float | None]]) -> dict[str, list[Any]]:
    return {p: [b, price, ()] for p, (b, price) in attributes.items()}


def test_a_brand_filter_keeps_only_the_brands_products_and_drops_those_of_unknown_brand() -> None:
    # Given a filter on acme or globex, and attributes that know p0 (acme), p3 (globex), p4 (no brand)
    filters = Filters(brands=frozenset({"acme", "globex"}), attributes=attributes_of(ATTRIBUTES))
    # When products are checked / Then acme and globex pass; no brand, or no attributes at all, do not
    assert filters.allows("p0", None)
    assert filters.allows("p3", None)
    assert not filters.allows("p4", None)
    assert not filters.allows("unknown", None)


def test_a_price_range_is_inclusive_and_drops_products_of_unknown_price() -> None:
    # Given products priced 10, 25, unknown, 15, 12 and 40
    attributes = attributes_of(ATTRIBUTES)
    # When filtered on 12 to 25, at least 25, and at most 10
    between = Filters(min_price=12.0, max_price=25.0, attributes=attributes)
    at_least = Filters(min_price=25.0, attributes=attributes)
    at_most = Filters(max_price=10.0, attributes=attributes)
    # Then the bounds are included, and a product without a price never passes
    assert [p for p in ATTRIBUTES if between.allows(p, None)] == ["p1", "p3", "p4"]
    assert [p for p in ATTRIBUTES if at_least.allows(p, None)] == ["p1", "p5"]
    assert [p for p in ATTRIBUTES if at_most.allows(p, None)] == ["p0"]


def test_brand_price_and_category_filters_combine() -> None:
    # Given acme products of kitchen priced 20 or more
    filters = Filters(
        categories=frozenset({"kitchen"}),
        catalog=CATEGORIES,
        brands=frozenset({"acme"}),
        min_price=20.0,
        attributes=attributes_of(ATTRIBUTES),
    )
    # When a popular list of every product is filled / Then only those remain, in the list's order
    popular: Items = [(p, 10.0 - n, "popular") for n, p in enumerate(ATTRIBUTES)]
    assert [p for p, _, _ in fill([("popular", lambda: popular)], 10, filters).products] == ["p1", "p5"]


def test_without_brand_or_price_the_attributes_are_never_looked_at() -> None:
    # Given filters without brand or price, whose attribute map would fail any lookup
    class Untouchable(dict[str, Any]):
        def get(self, *_: object) -> Any:
            raise AssertionError("looked up")

    filters = Filters(attributes=Untouchable())
    # When a product is checked / Then it passes without a lookup
    assert filters.allows("p0", None)


def test_the_attribute_map_keeps_brand_and_price_and_each_brands_categories_most_products_first() -> None:
    # Given the catalog's attributes and categories
    rows = attribute_map_rows(ATTRIBUTES, CATEGORIES, VERSION, "g", 99)
    # When read back as serving reads it
    decoded = decode_attribute_map(category_map_payload(rows))
    # Then every product with a brand or a price is there as [brand, price, tags]
    assert decoded.products == attributes_of(ATTRIBUTES)
    # And each brand names its categories, the one with most of its products first
    assert decoded.brand_categories == {"acme": ["kitchen", "garden"], "globex": ["kitchen"]}
    assert (rows[0]["pk"], rows[0]["sk"]) == (ATTRIBUTES_PK, version_sk(VERSION))


def test_the_attribute_map_keeps_each_price_bands_categories_most_products_first() -> None:
    # Given 20 priced products: socks at 1..10, coats at 11..20, and one sock at 15
    attributes: dict[str, tuple[str | None, float | None]] = {f"s{n}": (None, float(n)) for n in range(1, 11)}
    attributes |= {f"c{n}": (None, float(n)) for n in range(11, 21)} | {"s15": (None, 15.0)}
    categories = {p: "socks" if p.startswith("s") else "coats" for p in attributes}
    # When written and read back
    bands = read_back(attributes, categories).price_bands
    # Then the 21 prices are cut at their deciles (the 3rd, 5th, ... 19th price)
    assert list(bands.edges) == [3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0, 16.0, 18.0]
    # And a range counts the products of every band it meets: up to 4, the bands below 5 (socks);
    # 14 to 16, the bands from 13 up to 18 (coats 13..17 and the sock at 15); from 19.5, 18 and up
    assert bands.categories_within(None, 4.0) == {"socks": 4}
    assert bands.categories_within(14.0, 16.0) == {"coats": 5, "socks": 1}
    assert bands.categories_within(19.5, None) == {"coats": 3}
    assert sum(bands.categories_within(None, None).values()) == 21


def test_a_map_written_before_price_bands_has_none_and_deepens_nothing() -> None:
    # Given a map without priceBands (written before they existed)
    payload = b'{"fields":["brand","price"],"products":{"p":["acme",9.5]},"brandCategories":{}}'
    # When decoded / Then its price bands meet no category
    assert decode_attribute_map(payload).price_bands.categories_within(1.0, 10.0) == {}


def test_a_map_whose_fields_come_in_another_order_is_read_by_name() -> None:
    # Given a map written by a writer that lists price before brand, and a field serving ignores
    payload = b'{"fields":["price","tags","brand"],"products":{"p":[9.5,["eco"],"acme"]}}'
    # When decoded / Then each product is [brand, price, tags]
    assert decode_attribute_map(payload).products == {"p": ["acme", 9.5, ("eco",)]}


# -- through the service -------------------------------------------------------------------
class Pseudonyms:
    def user(self, raw: str) -> str:
        return "p_" + raw

    def anon(self, raw: str) -> str:
        return "a_" + raw


def row(pk: str, items: Items, version: str = VERSION) -> dict[str, Any]:
    return {"pk": pk, "sk": version_sk(version), "d": encode_items(items)}


def shop(*extra: dict[str, Any], catalog_version: str | None = None, attributes: bool = True) -> FakeTable:
    """A version whose shop-wide popular list holds p0..p4 (not p5), kitchen's popular list p5,
    its category map and (unless not `attributes`: a version published before them) its
    attribute map."""
    pointer = {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": VERSION, "generatedAt": "g"}
    rows: list[dict[str, Any]] = [
        pointer,
        row(popular_pk(), [(f"p{n}", 10.0 - n, "popular") for n in range(5)]),
        row(popular_pk("kitchen"), [("p5", 3.0, "category-popular")]),
        *category_map_rows(CATEGORIES, VERSION, "g", 99),
    ]
    if attributes:
        rows.extend(attribute_map_rows(ATTRIBUTES, CATEGORIES, VERSION, "g", 99))
    if catalog_version:
        rows.append({"pk": AVAILABILITY_KEY[0], "sk": AVAILABILITY_KEY[1], "d": "[]", "catalogVersion": FEED})
    return FakeTable([*rows, *extra])


def service(models: FakeTable) -> RecommendService:
    repository = ListRepository(
        models,
        FakeTable(),
        FakeCache(),
        ttls=TTLS,
        control_ttl_seconds=15,
        memory_entries=100,
        monotonic=Clock(),
    )
    return RecommendService(
        repository,
        Pseudonyms(),
        chains=Chains(),
        experiments=Experiments([], Chains()),
        options=ServingOptions(
            exclude_purchased=True, session_seeds=8, session_weight=0.4, rerank_weight=0.3
        ),
    )


def ask(served: RecommendService, **parameters: Any) -> Outcome:
    return served.recommend(RecommendationQuery.from_parameters(anon_id="visitor", limit=10, **parameters))


def ids(outcome: Outcome) -> list[str]:
    return [p.id for p in outcome.response.products]


def attribute_reads(models: FakeTable) -> list[tuple[str, str]]:
    return [key for keys in models.calls for key in keys if key[0].startswith(ATTRIBUTES_PK)]


def test_a_request_without_brand_or_price_never_reads_the_attribute_map() -> None:
    # Given a version with an attribute map
    models = shop()
    # When an anonymous visitor asks, and asks for a category
    served = service(models)
    ask(served)
    ask(served, category="kitchen")
    # Then the attribute map was never read
    assert attribute_reads(models) == []


def test_a_brand_filter_reads_the_map_once_and_finds_the_brand_beyond_the_shop_wide_list() -> None:
    # Given acme's p0, p1, p2 in the shop-wide popular list and p5 only in kitchen's (acme's
    # main category)
    models = shop()
    served = service(models)
    # When an anonymous visitor asks for acme, in any case, twice
    first = ask(served, brand="ACME")
    second = ask(served, brand="Acme")
    # Then every acme product is served, p5 found through kitchen's list
    assert ids(first) == ids(second)
    assert sorted(ids(first)) == ["p0", "p1", "p2", "p5"]
    # And the map was read from the table once (then held in memory)
    assert attribute_reads(models) == [(ATTRIBUTES_PK, version_sk(VERSION))]


def test_price_filters_keep_the_range_and_a_brand_with_a_price_combines_them() -> None:
    # Given the version with its attribute map
    served = service(shop())
    # When asked for 12 to 25, and for acme up to 30
    ranged = ask(served, min_price=12.0, max_price=25.0)
    acme = ask(served, brand="acme", max_price=30.0)
    # Then only the products in range with a known price, and acme's under 30 with a price
    assert sorted(ids(ranged)) == ["p1", "p3", "p4"]
    assert sorted(ids(acme)) == ["p0", "p1"]


def test_a_price_filter_finds_products_beyond_the_shop_wide_list_in_its_bands_categories() -> None:
    # Given p5 (kitchen, 40), the only product from 30 up, in kitchen's popular list and not in the
    # shop-wide one; kitchen holds every product priced from 25 up
    models = shop()
    # When an anonymous visitor asks for 30 and up
    outcome = ask(service(models), min_price=30.0)
    # Then p5 is served, found through kitchen's list
    assert ids(outcome) == ["p5"]
    assert outcome.response.products[0].reason == "category-popular"


def test_a_brand_filter_with_a_price_range_finds_the_brand_in_range_beyond_the_shop_wide_list() -> None:
    # Given p5, acme's only product from 30 up, only in kitchen's popular list
    models = shop()
    # When asked for acme from 30 (deepened by acme's categories: brands take precedence)
    outcome = ask(service(models), brand="acme", min_price=30.0)
    # Then p5 is served
    assert ids(outcome) == ["p5"]


def test_a_version_published_before_attribute_maps_serves_and_its_filters_find_nothing() -> None:
    # Given a version without an attribute map
    served = service(shop(attributes=False))
    # When asked with and without a brand filter
    filtered = ask(served, brand="acme")
    unfiltered = ask(served)
    # Then the filtered list is empty (a 200, not an error) and the other one unaffected
    assert ids(filtered) == []
    assert filtered.response.source == "popular"
    assert ids(unfiltered) == ["p0", "p1", "p2", "p3", "p4"]


def test_the_catalog_feeds_attributes_win_over_the_last_runs() -> None:
    # Given the catalog feed's map since the run: p3 is now acme at 20, and p9 a new acme product
    newer = {"p3": ("acme", 20.0), "p9": ("acme", 5.0)}
    feed_rows = attribute_map_rows(newer, {"p9": "kitchen"}, FEED, "g", 99)
    models = shop(*feed_rows, catalog_version=FEED)
    models.rows[(popular_pk("kitchen"), version_sk(VERSION))] = row(
        popular_pk("kitchen"), [("p5", 3.0, "category-popular"), ("p9", 2.0, "category-popular")]
    )
    # When asked for acme
    outcome = ask(service(models), brand="acme")
    # Then p3 is served as acme now, p9 is known from the feed's map, and the run's acme products stay
    assert sorted(ids(outcome)) == ["p0", "p1", "p2", "p3", "p5", "p9"]


def test_trending_lists_of_the_brands_categories_are_read_too() -> None:
    # Given kitchen's trending list (and not its popular one) holding p5
    models = shop()
    del models.rows[(popular_pk("kitchen"), version_sk(VERSION))]
    models.rows[(trending_pk("kitchen"), version_sk(VERSION))] = row(
        trending_pk("kitchen"), [("p5", 1.0, "trending")]
    )
    # When asked for acme / Then p5 comes from it, after popular's acme products
    assert ids(ask(service(models), brand="acme"))[-1] == "p5"
