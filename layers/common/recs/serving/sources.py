"""The named sources a recommendation list is filled from, and the per-context fallback chains.

Fallback is configuration (gorse's habit): each context has an ordered list of source names;
the service fills the response from them in order, up to `limit`, skipping duplicates and
filtered products. `Chains` validates a configured set of chains.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Source(StrEnum):
    """Where products come from (the `source` of a response names the first that contributed)."""

    #: The user's precomputed top-K, adjusted by their live session signal.
    USER = "user"
    #: Neighbours (similar items) of the visitor's recent products: anonymous visitors too.
    SESSION = "session"
    #: Items similar to the product on screen, re-ranked for the user when known.
    SIMILAR = "similar"
    #: Bought together with the product on screen or the cart's items.
    BOUGHT_TOGETHER = "bought-together"
    #: Items similar to the cart's items.
    CART_SIMILAR = "cart-similar"
    #: Popular in the category of the shopper's current interest.
    CATEGORY_POPULAR = "category-popular"
    #: Popular overall (in the `category` filter's category when one is given).
    POPULAR = "popular"
    #: Trending overall (in the `category` filter's category when one is given).
    TRENDING = "trending"
    #: Products no model knows yet, newest first (the catalog feed's; `NEW_ARRIVALS_SHARE` also
    #: mixes them into homepage lists).
    NEW_ARRIVALS = "new-arrivals"


#: Sources built from what a shopper did (stored behaviour): never used for opted-out users.
PERSONAL_SOURCES = frozenset({Source.USER, Source.SESSION})
#: Sources that need no seed at all, so a chain ending in one always has an answer.
SEEDLESS_SOURCES = frozenset({Source.POPULAR, Source.TRENDING})

CONTEXTS = ("homepage", "product-page", "cart")

Chain = Annotated[list[Source], Field(min_length=1, max_length=len(Source))]


class Chains(BaseModel):
    """The ordered sources of each context."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    homepage: Chain = Field(
        default_factory=lambda: [
            Source.USER,
            Source.SESSION,
            Source.CATEGORY_POPULAR,
            Source.POPULAR,
            Source.TRENDING,
        ]
    )
    product_page: Chain = Field(
        alias="product-page",
        default_factory=lambda: [
            Source.SIMILAR,
            Source.BOUGHT_TOGETHER,
            Source.CATEGORY_POPULAR,
            Source.POPULAR,
            Source.TRENDING,
        ],
    )
    cart: Chain = Field(
        default_factory=lambda: [
            Source.BOUGHT_TOGETHER,
            Source.CART_SIMILAR,
            Source.CATEGORY_POPULAR,
            Source.POPULAR,
            Source.TRENDING,
        ]
    )

    @model_validator(mode="after")
    def _each_chain_is_sound(self) -> Self:
        for context in CONTEXTS:
            chain = self.of(context)
            if len(set(chain)) != len(chain):
                raise ValueError(f"the {context} chain names a source twice")
            if not SEEDLESS_SOURCES & set(chain):
                # Without one, a visitor with no history and no product would get a 503.
                raise ValueError(f"the {context} chain must include popular or trending")
        return self

    def of(self, context: str) -> list[Source]:
        """The chain of a context (unknown contexts are served as the homepage)."""
        if context == "product-page":
            return self.product_page
        if context == "cart":
            return self.cart
        return self.homepage

    def merged(self, overrides: ChainOverrides) -> Chains:
        """These chains with some contexts replaced (an experiment variant's)."""
        data = {context: self.of(context) for context in CONTEXTS}
        data.update({context: chain for context, chain in overrides.items() if chain})
        return Chains.model_validate(data)


ChainOverrides = dict[Annotated[str, Field(pattern=r"^(homepage|product-page|cart)$")], Chain]
