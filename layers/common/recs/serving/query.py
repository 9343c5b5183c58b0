"""The query parameters of GET /api/recommendations, and their types.

The types are declared once here and used twice: by `RecommendationParameters`, the route's
query parameters as one model (Powertools validates it in one pydantic call and documents each
field in the OpenAPI spec), and by `RecommendationQuery`, the model the service receives, which
adds the rules that span several parameters.
"""

from __future__ import annotations

from typing import Annotated, Self

import annotated_types as at
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from recs.contracts.ids import ID_PATTERN
from recs.errors import InvalidRequestError

MAX_CART_ITEMS = 100
#: Products a request may exclude (those other widgets of the page show, say).
MAX_EXCLUDED = 100
#: Categories one request may filter on.
MAX_CATEGORIES = 20
#: Brands one request may filter on.
MAX_BRANDS = 20
#: Tags one request may filter on.
MAX_TAGS = 20
KNOWN_CONTEXTS = ("homepage", "product-page", "cart")

#: User, anonymous and product ids: 1-128 characters of A-Z a-z 0-9 _ - . : (no spaces, no `@`).
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
#: How many products to return.
Limit = Annotated[int, at.Ge(1), at.Le(100)]
#: The page asking; any other value (spaces, slashes, any script) is served as the homepage. Only
#: the absurd is refused: over 64 characters, or control characters.
ContextName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: A catalog category, exactly as the events carry it (no control characters).
Category = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
_CATEGORY_CHARS = r"[^\x00-\x1f\x7f,]"
#: Several categories, comma-separated (so none of them may contain a comma; `category` may).
CategoryList = Annotated[
    str,
    StringConstraints(
        max_length=MAX_CATEGORIES * 129,
        pattern=rf"^{_CATEGORY_CHARS}{{1,128}}(,{_CATEGORY_CHARS}{{1,128}}){{0,{MAX_CATEGORIES - 1}}}$",
    ),
]
#: One brand or several, comma-separated (so none of them may contain a comma), matched
#: case-insensitively: the catalog export's brands are lower-cased (`recs.catalog.products`).
BrandList = Annotated[
    str,
    StringConstraints(
        max_length=MAX_BRANDS * 129,
        pattern=rf"^{_CATEGORY_CHARS}{{1,128}}(,{_CATEGORY_CHARS}{{1,128}}){{0,{MAX_BRANDS - 1}}}$",
    ),
]
#: One tag or several, comma-separated, under the brand filter's rules (1-128 characters each, no
#: commas or control characters, up to MAX_TAGS), matched case-insensitively: the catalog
#: export's tags are lower-cased (`recs.catalog.products`). A product passes with any of them.
TagList = Annotated[
    str,
    StringConstraints(
        max_length=MAX_TAGS * 129,
        pattern=rf"^{_CATEGORY_CHARS}{{1,128}}(,{_CATEGORY_CHARS}{{1,128}}){{0,{MAX_TAGS - 1}}}$",
    ),
]
#: A brand as the catalog keeps it: lower-cased, without surrounding spaces.
Brand = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
#: A price bound: a finite number, 0 or more, in the catalog's prices' currency.
Price = Annotated[float, at.Ge(0), AllowInfNan(False)]
_ID_CHARS = ID_PATTERN.removeprefix("^").removesuffix("$").removesuffix("{1,128}")
#: Comma-separated product ids (a cart), up to MAX_CART_ITEMS of them.
ProductList = Annotated[
    str,
    StringConstraints(
        max_length=MAX_CART_ITEMS * 129,
        pattern=rf"^{_ID_CHARS}{{1,128}}(,{_ID_CHARS}{{1,128}}){{0,{MAX_CART_ITEMS - 1}}}$",
    ),
]

DEFAULT_LIMIT = 10
DEFAULT_CONTEXT = "homepage"


class RecommendationQuery(BaseModel):
    """What the caller asked for, validated (docs/architecture.md, HTTP API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    userId: Identifier | None = None
    anonId: Identifier | None = None
    limit: Limit = DEFAULT_LIMIT
    context: ContextName = DEFAULT_CONTEXT
    productId: Identifier | None = Field(default=None, description="The product on screen.")
    cartProductIds: tuple[Identifier, ...] = Field(default=(), max_length=MAX_CART_ITEMS)
    category: Category | None = None
    excludeProductIds: tuple[Identifier, ...] = Field(
        default=(), max_length=MAX_EXCLUDED, description="Products never to return."
    )
    categories: tuple[Category, ...] = Field(
        default=(), max_length=MAX_CATEGORIES, description="Only products of these categories."
    )
    brands: tuple[Brand, ...] = Field(
        default=(), max_length=MAX_BRANDS, description="Only products of these brands (lower-cased)."
    )
    tags: tuple[Brand, ...] = Field(
        default=(), max_length=MAX_TAGS, description="Only products with any of these tags (lower-cased)."
    )
    minPrice: Price | None = Field(default=None, description="Only products at this price or more.")
    maxPrice: Price | None = Field(default=None, description="Only products at this price or less.")

    @model_validator(mode="after")
    def _product_page_needs_product(self) -> Self:
        if self.context == "product-page" and not self.productId:
            raise ValueError("productId is required when context is product-page")
        return self

    @model_validator(mode="after")
    def _price_range_is_not_empty(self) -> Self:
        if self.minPrice is not None and self.maxPrice is not None and self.minPrice > self.maxPrice:
            raise ValueError("minPrice is greater than maxPrice")
        return self

    @property
    def filters_attributes(self) -> bool:
        """Whether a brand, tag or price filter is given (the version's attribute map is then read)."""
        return bool(self.brands) or bool(self.tags) or self.minPrice is not None or self.maxPrice is not None

    @property
    def category_filter(self) -> tuple[str, ...]:
        """The categories products must belong to (none: no filter), from either parameter; each a
        path whose subcategories it includes (`recs.serving.ranking.in_categories`)."""
        return (self.category,) if self.category is not None else self.categories

    @property
    def effective_context(self) -> str:
        """Unknown contexts are served as the homepage."""
        return self.context if self.context in KNOWN_CONTEXTS else DEFAULT_CONTEXT

    @classmethod
    def from_parameters(
        cls,
        *,
        user_id: str | None = None,
        anon_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
        context: str = DEFAULT_CONTEXT,
        product_id: str | None = None,
        current_product_id: str | None = None,
        cart_product_ids: str | None = None,
        category: str | None = None,
        exclude: str | None = None,
        categories: str | None = None,
        brand: str | None = None,
        tag: str | None = None,
        min_price: float | None = None,
        max_price: float | None = None,
    ) -> RecommendationQuery:
        """The query from the (individually validated) parameters of the route.

        `current_product_id` (`currentProductId`) is the requirements' name for `productId`;
        both may be sent only when they agree. Raises `InvalidRequestError` naming the field
        when a rule spanning several parameters is broken.
        """
        if product_id and current_product_id and product_id != current_product_id:
            raise InvalidRequestError(
                "invalid request", {"currentProductId": "differs from productId; send one of them"}
            )
        product = product_id or current_product_id
        if context == "product-page" and not product:
            raise InvalidRequestError(
                "invalid request", {"productId": "required when context is product-page"}
            )
        cart = tuple(dict.fromkeys(cart_product_ids.split(","))) if cart_product_ids else ()
        excluded = tuple(dict.fromkeys(exclude.split(","))) if exclude else ()
        if category is not None and categories:
            raise InvalidRequestError(
                "invalid request", {"categories": "send category or categories, not both"}
            )
        several = tuple(dict.fromkeys(categories.split(","))) if categories else ()
        brands = tuple(dict.fromkeys(b.strip().lower() for b in brand.split(","))) if brand else ()
        if "" in brands:
            raise InvalidRequestError("invalid request", {"brand": "a brand name is blank"})
        tags = tuple(dict.fromkeys(t.strip().lower() for t in tag.split(","))) if tag else ()
        if "" in tags:
            raise InvalidRequestError("invalid request", {"tag": "a tag is blank"})
        if min_price is not None and max_price is not None and min_price > max_price:
            reason = f"greater than maxPrice ({max_price:g}); send minPrice <= maxPrice"
            raise InvalidRequestError("invalid request", {"minPrice": reason})
        return cls(
            userId=user_id,
            anonId=anon_id,
            limit=limit,
            context=context,
            productId=product,
            cartProductIds=cart,
            category=category,
            excludeProductIds=excluded,
            categories=several,
            brands=brands,
            tags=tags,
            minPrice=min_price,
            maxPrice=max_price,
        )


class RecommendationParameters(BaseModel):
    """The route's query parameters, as sent (aliases are the wire names), each validated alone.

    One model rather than fourteen typed handler parameters: Powertools validates a model
    parameter with one pydantic call, where it inspects every scalar parameter's annotation
    again on every request, and that inspection was the largest single cost of a cache hit
    (`python -m bench --only serving`, docs/serving.md). The OpenAPI spec lists the same
    parameters either way.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    user_id: Identifier | None = Field(default=None, alias="userId", description="Signed-in shopper.")
    anon_id: Identifier | None = Field(
        default=None, alias="anonId", description="Anonymous browser id (no userId)."
    )
    limit: Limit = Field(default=DEFAULT_LIMIT, description="How many products (1-100).")
    context: ContextName = Field(
        default=DEFAULT_CONTEXT,
        description="homepage, product-page or cart; other values are served as homepage.",
    )
    product_id: Identifier | None = Field(
        default=None, alias="productId", description="The product on screen; required for product-page."
    )
    current_product_id: Identifier | None = Field(
        default=None, alias="currentProductId", description="Alias of productId."
    )
    cart_product_ids: ProductList | None = Field(
        default=None, alias="cartProductIds", description="The cart's product ids, comma-separated."
    )
    category: Category | None = Field(
        default=None,
        description="Only products of this category and of the categories below it: a path of "
        "segments separated by `/` (`home/kitchen` matches `home/kitchen/knives`, never "
        "`home/kitchenware`).",
    )
    categories: CategoryList | None = Field(
        default=None,
        description="Only products of these categories, comma-separated (up to 20; no commas "
        "inside a name; use `category` for one that has some). Not with `category`.",
    )
    exclude: ProductList | None = Field(
        default=None,
        description="Products never to return, comma-separated (up to 100): e.g. those another "
        "widget of the page already shows. The list is filled from deeper candidates and the "
        "next sources instead.",
    )
    brand: BrandList | None = Field(
        default=None,
        description="Only products of these brands, comma-separated (up to 20; no commas inside "
        "a name), matched case-insensitively. Products of unknown brand are left out.",
    )
    tag: TagList | None = Field(
        default=None,
        description="Only products with any of these tags, comma-separated (up to 20; no commas "
        "inside a tag), matched case-insensitively. Products without tags are left out.",
    )
    min_price: Price | None = Field(
        default=None,
        alias="minPrice",
        description="Only products priced at least this (a number >= 0, the catalog's "
        "currency; at most maxPrice). Products of unknown price are left out.",
    )
    max_price: Price | None = Field(
        default=None,
        alias="maxPrice",
        description="Only products priced at most this (a number >= 0, the catalog's currency). "
        "Products of unknown price are left out.",
    )

    def query(self, *, user_id: str | None) -> RecommendationQuery:
        """The service's query, with the user the caller was admitted as (`recs.wiring.auth`)."""
        return RecommendationQuery.from_parameters(
            user_id=user_id,
            anon_id=self.anon_id,
            limit=self.limit,
            context=self.context,
            product_id=self.product_id,
            current_product_id=self.current_product_id,
            cart_product_ids=self.cart_product_ids,
            category=self.category,
            exclude=self.exclude,
            categories=self.categories,
            brand=self.brand,
            tag=self.tag,
            min_price=self.min_price,
            max_price=self.max_price,
        )
