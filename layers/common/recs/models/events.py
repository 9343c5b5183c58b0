"""Shop events (ARCHITECTURE.md section 3).

`ShopEvent` is what the frontend sends. `LakeEvent` is what reaches the S3 lake: the same
fields with user, anonymous and session ids replaced by keyed-hash pseudonyms, free text
scrubbed of anything that looks like an e-mail address or phone number, and unknown fields
(which is where PII such as names, addresses and IPs would travel) dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

#: Identifiers: letters, digits and `_-.:`; no spaces, no `@` (an e-mail is not an id).
ID_PATTERN = r"^[A-Za-z0-9_\-.:]{1,128}$"
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
_ID_RE = re.compile(ID_PATTERN)


def checked_identifier(field: str, value: str) -> str:
    """An identifier from a path or header, checked like the event fields are."""
    from recs.errors import InvalidRequestError

    if not _ID_RE.match(value):
        raise InvalidRequestError(
            f"invalid {field}", {field: "must be 1-128 characters of A-Z a-z 0-9 _ - . :"}
        )
    return value


class EventType(StrEnum):
    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    SEARCH = "search"
    SEARCH_RESULT_CLICK = "search_result_click"


#: Default confidence weight per event type (requirements.md "Event weighting").
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    EventType.PURCHASE.value: 5.0,
    EventType.ADD_TO_CART.value: 3.0,
    EventType.CLICK.value: 2.0,
    EventType.SEARCH_RESULT_CLICK.value: 2.0,
    EventType.VIEW.value: 1.0,
}


class _EventFields(BaseModel):
    eventId: Annotated[
        str,
        StringConstraints(
            pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        ),
    ] = Field(description="Client-generated UUID; duplicates are harmless.")
    eventType: EventType
    timestamp: AwareDatetime = Field(description="ISO-8601 with a zone.")
    sessionId: Identifier | None = None
    productId: Identifier | None = Field(default=None, description="Required except for `search`.")
    category: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    quantity: Annotated[int, Field(ge=1, le=10_000)] | None = None
    price: Annotated[float, Field(ge=0, le=1e9)] | None = None
    context: Annotated[str, StringConstraints(max_length=64)] | None = None
    recommendationId: Identifier | None = Field(
        default=None, description="Set when the interaction came from a recommendation."
    )
    query: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        default=None,
        description="Search text (search events); e-mail addresses and phone numbers are removed.",
    )
    results: Annotated[list[Identifier], Field(max_length=200)] | None = Field(
        default=None, description="Product ids shown for a search."
    )

    @model_validator(mode="after")
    def _product_required(self) -> Self:
        if self.eventType is not EventType.SEARCH and self.productId is None:
            raise ValueError(f"productId is required for eventType '{self.eventType.value}'")
        return self


class ShopEvent(_EventFields):
    """One interaction as the frontend sends it. Unknown fields are ignored (never stored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    userId: Identifier | None = Field(default=None, description="Authenticated shopper id.")
    anonId: Identifier | None = Field(default=None, description="Anonymous browser id.")

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.userId is None and self.anonId is None:
            raise ValueError("one of userId or anonId is required")
        return self


class LakeEvent(_EventFields):
    """One event as stored in the lake: pseudonymous ids only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    userId: str | None = Field(default=None, description="Pseudonym of the user id (keyed hash).")
    anonId: str | None = Field(default=None, description="Pseudonym of the anonymous id (keyed hash).")
    receivedAt: datetime
    schemaVersion: int = 1
