"""What serving returns and what training publishes (docs/architecture.md, The contracts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Reason(StrEnum):
    SIMILAR_USERS = "similar-users"
    SIMILAR_ITEMS = "similar-items"
    BOUGHT_TOGETHER = "bought-together"
    SESSION = "session"
    CATEGORY_POPULAR = "category-popular"
    POPULAR = "popular"
    TRENDING = "trending"
    BUY_AGAIN = "buy-again"
    NEW_ARRIVAL = "new-arrival"
    #: Placed or moved by a merchandising rule (`ruleId` names it; docs/serving.md, Rules).
    RULE = "rule"


class Relation(StrEnum):
    """How the shopper is linked to the product a recommendation is based on."""

    #: The product on screen, or one the visitor recently looked at.
    VIEWED = "viewed"
    #: One of the cart's items.
    IN_CART = "in-cart"
    #: A product the shopper bought (for buy-again, the recommended product itself).
    BOUGHT = "bought"


class BasedOn(BaseModel):
    """The product a recommendation is based on, and the shopper's link to it (docs/frontend.md)."""

    model_config = ConfigDict(frozen=True)

    productId: str = Field(description="The product the recommendation is based on.")
    relation: Relation = Field(
        description="`viewed`: on screen or recently looked at; `in-cart`: in the cart; "
        "`bought`: bought before."
    )


class ScoredProduct(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Product id.")
    score: float = Field(
        description="Relevance in [0, 1], non-increasing down the list; comparable within one response."
    )
    reason: Reason | None = Field(default=None, description="Why the product is recommended.")
    ruleId: str | None = Field(
        default=None, description="With reason `rule`: the merchandising rule that placed or moved it."
    )
    basedOn: BasedOn | None = Field(
        default=None,
        description="With reason `similar-items`, `bought-together`, `session` or `buy-again`: the "
        "product it is based on (absent for the other reasons).",
    )


class RecommendationList(BaseModel):
    """A ranked list as stored (DynamoDB row, cache value): stamped with its version and time."""

    model_config = ConfigDict(frozen=True)

    products: list[ScoredProduct]
    modelVersion: str
    generatedAt: datetime


class RecommendationResponse(BaseModel):
    """The 200 body of GET /api/recommendations."""

    products: list[ScoredProduct]
    modelVersion: str
    generatedAt: str = Field(description="ISO-8601 UTC")
    source: str | None = Field(default=None, description="The tier that served (first source used).")
    recommendationId: str | None = Field(default=None, description="Echo it in events for attribution.")
    variant: str | None = Field(default=None, description="The visitor's experiment variant, if any.")
    experiment: str | None = Field(default=None, description="The experiment `variant` belongs to.")


class ModelPointer(BaseModel):
    """The single current-version pointer."""

    model_config = ConfigDict(frozen=True)

    modelVersion: str
    generatedAt: datetime
    previousVersion: str | None = None
