"""The query parameters of GET /api/recommendations, validated."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from recs.models.events import ID_PATTERN

Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
KNOWN_CONTEXTS = ("homepage", "product-page", "cart")


class RecommendationQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    userId: Identifier | None = None
    anonId: Identifier | None = None
    limit: int = Field(default=10, ge=1, le=100)
    context: Annotated[str, StringConstraints(max_length=64)] = "homepage"
    productId: Identifier | None = Field(default=None, alias="productId")
    cartProductIds: list[Identifier] = Field(default_factory=list, max_length=100)
    category: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None

    @field_validator("cartProductIds", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.split(",") if part]
        return value

    @model_validator(mode="after")
    def _product_page_needs_product(self) -> Self:
        if self.context == "product-page" and not self.productId:
            raise ValueError("productId is required when context is product-page")
        return self

    @property
    def effective_context(self) -> str:
        """Unknown contexts are served as the homepage."""
        return self.context if self.context in KNOWN_CONTEXTS else "homepage"

    @classmethod
    def from_query_string(cls, params: dict[str, str]) -> RecommendationQuery:
        data: dict[str, object] = dict(params)
        if "currentProductId" in data and "productId" not in data:
            data["productId"] = data.pop("currentProductId")
        return cls.model_validate(data)
