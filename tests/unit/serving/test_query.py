"""RecommendationQuery: the rules that span several parameters."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from recs.errors import InvalidRequestError
from recs.serving.query import ContextName, RecommendationQuery


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
