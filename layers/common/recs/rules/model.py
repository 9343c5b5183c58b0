"""A merchandising rule, as the admin route takes it (`RuleBody`) and the store keeps it (`Rule`).

A rule acts in one or more contexts (none named: every context) between `startsAt` (inclusive)
and `endsAt` (exclusive), on one target:

- ``pin``: a product at a position (1 = first) of the list;
- ``boost`` / ``bury``: products of a product id, a category (and the categories below it, as
  the category filter matches a path) or a brand, their score in the list multiplied by `factor`
  (boost: more than 1, bury: less than 1) and the list re-sorted;
- ``block``: a product never served (the list is filled from the next candidates instead).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from recs.contracts.ids import ID_PATTERN

# The shapes of the recommendations query's ids, category and brand (`recs.serving.query`), named
# here: serving imports this package, so this package imports nothing of serving.
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
Brand = Category

#: A rule's id: chosen by the merchandiser (it names the rule in each ruled product's reason).
RULE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
RuleId = Annotated[str, StringConstraints(pattern=RULE_ID_PATTERN)]
RuleKind = Literal["pin", "boost", "bury", "block"]
RuleContext = Literal["homepage", "product-page", "cart"]
#: Rules the store holds at once (all of them in one row, far below DynamoDB's 400 KB item limit).
MAX_RULES = 200
#: The furthest position a pin may name (a list holds at most 100 products).
MAX_POSITION = 100
#: How far a boost may lift and a bury may sink a product's score.
MAX_FACTOR = 100.0
MIN_FACTOR = 0.01


class RuleBody(BaseModel):
    """The body of PUT /api/admin/rules/{ruleId}: what the rule does, where and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RuleKind = Field(description="pin, boost, bury or block.")
    productId: Identifier | None = Field(
        default=None, description="The product the rule is about (pin and block: required)."
    )
    category: Category | None = Field(
        default=None,
        description="Boost or bury: every product of this category or of a category below it, on whole "
        "path segments (home/kitchen holds home/kitchen/knives, not home/kitchenware); spelled exactly "
        "as the catalog's (case matters).",
    )
    brand: Brand | None = Field(
        default=None, description="Boost or bury: every product of this brand (matched case-insensitively)."
    )
    contexts: Annotated[list[RuleContext], Field(max_length=3)] = Field(
        default_factory=list, description="Where the rule acts: homepage, product-page, cart; none = all."
    )
    position: Annotated[int, Field(ge=1, le=MAX_POSITION)] | None = Field(
        default=None, description="Pin: the position in the list, 1 = first (required for pin)."
    )
    factor: Annotated[float, Field(ge=MIN_FACTOR, le=MAX_FACTOR, allow_inf_nan=False)] | None = Field(
        default=None,
        description="Boost (> 1) or bury (< 1): what the products' scores are multiplied by; "
        "default 2 for boost, 0.5 for bury.",
    )
    startsAt: AwareDatetime = Field(description="When the rule starts to act (ISO-8601 with a zone).")
    endsAt: AwareDatetime = Field(description="When it stops (exclusive); after startsAt.")
    note: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")] = Field(
        default="", description="Why the rule exists (for the audit and the next merchandiser)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        targets = [name for name in ("productId", "category", "brand") if getattr(self, name) is not None]
        if len(targets) != 1:
            raise ValueError("productId: name exactly one target: productId, category or brand")
        if self.kind in ("pin", "block") and targets != ["productId"]:
            raise ValueError(f"productId: a {self.kind} rule is about one product (productId)")
        if self.kind == "pin" and self.position is None:
            raise ValueError("position: a pin rule needs a position (1 = first)")
        if self.kind != "pin" and self.position is not None:
            raise ValueError(f"position: only a pin rule has a position, not a {self.kind} rule")
        if self.kind in ("pin", "block") and self.factor is not None:
            raise ValueError(f"factor: only boost and bury rules have a factor, not a {self.kind} rule")
        if self.kind == "boost" and self.factor is not None and self.factor <= 1:
            raise ValueError("factor: a boost multiplies scores by more than 1")
        if self.kind == "bury" and self.factor is not None and self.factor >= 1:
            raise ValueError("factor: a bury multiplies scores by less than 1")
        if self.endsAt <= self.startsAt:
            raise ValueError("endsAt: must be after startsAt")
        if len(set(self.contexts)) != len(self.contexts):
            raise ValueError("contexts: a context is named twice")
        return self

    @property
    def effective_factor(self) -> float:
        if self.factor is not None:
            return self.factor
        return {"boost": 2.0, "bury": 0.5}.get(self.kind, 1.0)

    @property
    def brand_key(self) -> str | None:
        """The brand as the catalog keeps brands: lower-cased, without surrounding spaces."""
        return self.brand.strip().lower() if self.brand is not None else None

    def acts_in(self, context: str) -> bool:
        return not self.contexts or context in self.contexts

    def active_at(self, now: datetime) -> bool:
        return self.startsAt <= now < self.endsAt


class Rule(RuleBody):
    """A stored rule: the body, its id, and who last changed it when."""

    id: RuleId
    updatedBy: str = Field(description="The IAM principal that last wrote the rule.")
    updatedAt: AwareDatetime

    @classmethod
    def of(cls, rule_id: str, body: RuleBody, who: str, when: datetime) -> Rule:
        return cls.model_validate(
            {**body.model_dump(), "id": rule_id, "updatedBy": who, "updatedAt": when.astimezone(UTC)}
        )


class RuleList(BaseModel):
    """GET /api/admin/rules: every stored rule (active, future and expired), by id."""

    rules: list[Rule]
    revision: int = Field(description="The rule set's write counter (each change adds one).")


class RuleChange(BaseModel):
    """An audit record of one change: who, what (before and after), when."""

    ruleId: RuleId
    action: Literal["put", "delete"]
    who: str
    at: AwareDatetime
    before: Rule | None
    after: Rule | None
    revision: int


class RuleChanges(BaseModel):
    """GET /api/admin/rules-audit: the latest changes, newest first."""

    changes: list[RuleChange]
