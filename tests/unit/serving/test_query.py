"""RecommendationQuery: the rules that span several parameters."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from recs.errors import InvalidRequestError
from recs.serving.query import BrandList, ContextName, Price, RecommendationQuery, TagList


def test_the_cart_is_split_and_deduplicated_in_order() -> None:
    # Given a cart parameter with a repeated product
    query = RecommendationQuery.from_parameters(context="cart", cart_product_ids="b,a,b")
    # Then the cart is the distinct products, in the order given
    assert query.cartProductIds == ("b", "a")


def test_current_product_id_is_an_alias_of_product_id() -> None:
    # Given the requirements' name for the product on screen
    query = RecommendationQuery.from_parameters(context="product-page", current_product_id="sku_1")
    # Then it is the product on screen
    assert query.productId == "sku_1"


def test_conflicting_product_ids_are_rejected_naming_the_alias() -> None:
    # Given both names with different values / Then the alias is named as the bad field
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(product_id="a", current_product_id="b")
    assert list(raised.value.fields) == ["currentProductId"]


def test_a_product_page_without_a_product_is_rejected_naming_product_id() -> None:
    # Given/When a product-page query is made without a product
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(context="product-page")
    # Then it is rejected, naming productId as the bad field
    assert list(raised.value.fields) == ["productId"]


@pytest.mark.parametrize(
    ("context", "effective"),
    [
        ("homepage", "homepage"),
        ("cart", "cart"),
        ("product-page", "product-page"),
        ("search", "homepage"),
        ("home page", "homepage"),
        ("Angebote/Woche", "homepage"),
        ("página-de-inicio", "homepage"),
    ],
)
def test_unknown_contexts_are_served_as_the_homepage(context: str, effective: str) -> None:
    # Given/When a query is made for a known context or an unknown one ("search")
    query = RecommendationQuery.from_parameters(context=context, product_id="p")
    # Then a known context is served as itself and an unknown one as the homepage
    assert query.effective_context == effective


@pytest.mark.parametrize("context", ["x" * 64, "home page", "Startseite · Angebote"])
def test_any_context_name_up_to_64_printable_characters_is_accepted(context: str) -> None:
    # Given/When the context parameter is validated as the handler's type does
    # Then it is accepted
    assert TypeAdapter(ContextName).validate_python(context) == context


@pytest.mark.parametrize("context", ["x" * 65, "home\npage", "tab\there", "nul\x00", ""])
def test_absurd_context_names_are_refused(context: str) -> None:
    # Given a context over 64 characters, with control characters, or empty / Then it is refused
    with pytest.raises(ValidationError):
        TypeAdapter(ContextName).validate_python(context)


def test_excluded_products_are_split_and_deduplicated_in_order() -> None:
    # Given an exclude parameter with a repeated product
    query = RecommendationQuery.from_parameters(exclude="sku_2,sku_1,sku_2")
    # Then the excluded products are the distinct ones, in the order given
    assert query.excludeProductIds == ("sku_2", "sku_1")
    # And without the parameter nothing is excluded
    assert RecommendationQuery.from_parameters().excludeProductIds == ()


def test_several_categories_are_split_deduplicated_and_never_sent_with_category() -> None:
    # Given several categories / Then they are the filter, distinct and in order
    query = RecommendationQuery.from_parameters(categories="shoes,hats,shoes")
    assert query.category_filter == ("shoes", "hats")
    # And one category alone is the filter too (it may contain a comma)
    assert RecommendationQuery.from_parameters(category="Home, Garden").category_filter == ("Home, Garden",)
    # And both at once are refused, naming categories
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(category="shoes", categories="hats")
    assert list(raised.value.fields) == ["categories"]


def test_brands_are_split_lower_cased_trimmed_and_deduplicated_in_order() -> None:
    # Given brands as a shopper's page might send them, in any case and with spaces after commas
    query = RecommendationQuery.from_parameters(brand="Acme, GLOBEX,acme")
    # Then they are the catalog's form (lower-cased, trimmed), distinct and in order
    assert query.brands == ("acme", "globex")
    assert query.filters_attributes
    # And without the parameter there is no brand filter (nor any attribute filter)
    assert RecommendationQuery.from_parameters().brands == ()
    assert not RecommendationQuery.from_parameters().filters_attributes


def test_a_blank_brand_is_refused_naming_brand() -> None:
    # Given/When a brand list with a name of spaces only / Then it is refused, naming brand
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(brand="acme,  ")
    assert list(raised.value.fields) == ["brand"]


@pytest.mark.parametrize(
    "brands",
    ["acme,", ",acme", "acme,,globex", "ac\tme", ",".join(f"b{n}" for n in range(21)), "x" * 129],
)
def test_malformed_brand_lists_are_refused_by_the_parameters_type(brands: str) -> None:
    # Given an empty name, a control character, 21 brands or a name over 128 characters
    # Then the handler's type refuses it (a 400 naming brand)
    with pytest.raises(ValidationError):
        TypeAdapter(BrandList).validate_python(brands)


@pytest.mark.parametrize(
    "brands", ["acme", "Johnson & Johnson,Procter & Gamble", ",".join(f"b{n}" for n in range(20))]
)
def test_brand_lists_up_to_20_names_are_accepted(brands: str) -> None:
    # Given/When one brand, brands with spaces and ampersands, or 20 brands / Then accepted
    assert TypeAdapter(BrandList).validate_python(brands) == brands


def test_a_price_range_may_be_open_or_a_single_price_but_never_inverted() -> None:
    # Given/When a lower bound only, an upper bound only, and both equal
    assert RecommendationQuery.from_parameters(min_price=10.0).minPrice == 10.0
    assert RecommendationQuery.from_parameters(max_price=0.0).maxPrice == 0.0
    single = RecommendationQuery.from_parameters(min_price=9.5, max_price=9.5)
    # Then each is the filter
    assert (single.minPrice, single.maxPrice) == (9.5, 9.5)
    assert single.filters_attributes
    # And minPrice over maxPrice is refused, naming minPrice
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(min_price=20.0, max_price=10.0)
    assert list(raised.value.fields) == ["minPrice"]
    # And the model refuses it too when built directly
    with pytest.raises(ValidationError, match="minPrice"):
        RecommendationQuery(minPrice=20.0, maxPrice=10.0)


@pytest.mark.parametrize("price", ["-1", "-0.01", "nan", "inf", "-inf", "1e400", "abc", ""])
def test_negative_or_non_finite_prices_are_refused_by_the_parameters_type(price: str) -> None:
    # Given a negative, not-a-number, infinite or non-numeric price / Then the handler's type refuses it
    with pytest.raises(ValidationError):
        TypeAdapter(Price).validate_python(price)


@pytest.mark.parametrize(("price", "value"), [("0", 0.0), ("12.5", 12.5), ("1e3", 1000.0), ("7", 7.0)])
def test_prices_of_zero_or_more_are_accepted(price: str, value: float) -> None:
    # Given/When a price as a query string carries it / Then it is that number
    assert TypeAdapter(Price).validate_python(price) == value


def test_tags_are_split_lower_cased_trimmed_and_deduplicated_and_filter_on_attributes() -> None:
    # Given tags as a page might send them, in any case and with spaces after commas
    query = RecommendationQuery.from_parameters(tag="Eco, SALE,eco")
    # Then they are the catalog's form (lower-cased, trimmed), distinct and in order, and the
    # attribute map is needed
    assert query.tags == ("eco", "sale")
    assert query.filters_attributes
    assert RecommendationQuery.from_parameters().tags == ()


def test_a_blank_tag_is_refused_naming_tag() -> None:
    # Given/When a tag list with a tag of spaces only / Then it is refused, naming tag
    with pytest.raises(InvalidRequestError) as raised:
        RecommendationQuery.from_parameters(tag="eco,  ")
    assert list(raised.value.fields) == ["tag"]


@pytest.mark.parametrize(
    "tags", ["eco,", ",eco", "eco,,sale", "e\tco", ",".join(f"t{n}" for n in range(21)), "x" * 129]
)
def test_malformed_tag_lists_are_refused_by_the_parameters_type(tags: str) -> None:
    # Given an empty tag, a control character, 21 tags or a tag over 128 characters
    # Then the handler's type refuses it (a 400 naming tag)
    with pytest.raises(ValidationError):
        TypeAdapter(TagList).validate_python(tags)


@pytest.mark.parametrize("tags", ["eco", "Fair Trade,gluten-free", ",".join(f"t{n}" for n in range(20))])
def test_tag_lists_up_to_20_tags_are_accepted(tags: str) -> None:
    # Given/When one tag, tags with spaces and dashes, or 20 tags / Then accepted
    assert TypeAdapter(TagList).validate_python(tags) == tags
