"""Shop events (docs/architecture.md, The contracts: Events).

`ShopEvent` is what the frontend sends. `LakeEvent` is what reaches the S3 lake: the same
fields with user, anonymous and session ids replaced by keyed-hash pseudonyms, free text
scrubbed of anything that looks like an e-mail address, phone number or IP address, and unknown
fields (which is where PII such as names, addresses and IPs would travel) dropped.

`docs/event-schemas.md` is generated from these models (``python -m recs_tools.docgen.event_schemas``).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from recs.contracts.ids import ID_PATTERN

#: Identifiers: letters, digits and `_-.:`; no spaces, no `@` (an e-mail is not an id).
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
_ID_RE = re.compile(ID_PATTERN)

#: Version of the lake record layout (`LakeEvent.schemaVersion`).
LAKE_SCHEMA_VERSION = 1


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


#: Default confidence weight per event type (docs/architecture.md, Events).
DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    EventType.PURCHASE.value: 5.0,
    EventType.ADD_TO_CART.value: 3.0,
    EventType.CLICK.value: 2.0,
    EventType.SEARCH_RESULT_CLICK.value: 2.0,
    EventType.VIEW.value: 1.0,
}

#: Fields an event type requires beyond the common ones (`eventId`, `eventType`, `timestamp` and
#: one of `userId`/`anonId`). The model validator and the published JSON Schemas both read this.
TYPE_REQUIRED_FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.VIEW: ("productId",),
    EventType.CLICK: ("productId",),
    EventType.ADD_TO_CART: ("productId",),
    EventType.PURCHASE: ("productId",),
    EventType.SEARCH: (),
    EventType.SEARCH_RESULT_CLICK: ("productId",),
}

#: Fields that hold free text (rather than catalog identifiers): scrubbed before the lake.
FREE_TEXT_FIELDS: tuple[str, ...] = ("category", "context", "query")


class _EventFields(BaseModel):
    eventId: Annotated[
        str,
        StringConstraints(
            pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        ),
    ] = Field(description="Client-generated UUID; duplicates are harmless (training counts each once).")
    eventType: EventType = Field(description="What happened; decides which other fields are required.")
    timestamp: AwareDatetime = Field(
        description="When it happened: ISO-8601 with a zone (`Z` or `+hh:mm`); stored in UTC."
    )
    sessionId: Identifier | None = Field(default=None, description="The browsing session (pseudonymized).")
    productId: Identifier | None = Field(default=None, description="Required except for `search`.")
    category: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="Category of the product (free text, scrubbed)."
    )
    quantity: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="Units (add_to_cart, purchase)."
    )
    price: Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)] | None = Field(
        default=None, description="Unit price in the shop's currency."
    )
    context: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="Where it happened: `homepage`, `product-page`, `cart`, `search`, ..."
    )
    recommendationId: Identifier | None = Field(
        default=None, description="Set when the interaction came from a recommendation."
    )
    query: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        default=None,
        description="Search text (search events); e-mail addresses, phone numbers and IPs are removed.",
    )
    results: Annotated[list[Identifier], Field(max_length=200)] | None = Field(
        default=None, description="Product ids shown for a search."
    )
    sampleRate: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description="How many events of its kind this one stands for: the shop keeps one in N of "
        "its type (`SAMPLING_RULES`, chosen by `eventId`). Set by the tracker's `sampling` option "
        "and by ingest; a value other than the shop's rule is rejected. Absent: 1.",
    )

    @model_validator(mode="after")
    def _type_fields_required(self) -> Self:
        for name in TYPE_REQUIRED_FIELDS[self.eventType]:
            if getattr(self, name) is None:
                # `field` in the context lets the API name the field of a model-level error.
                raise PydanticCustomError(
                    "missing_for_event_type",
                    "{field} is required for eventType '{event_type}'",
                    {"field": name, "event_type": self.eventType.value},
                )
        return self


class ShopEvent(_EventFields):
    """One interaction as the frontend sends it. Unknown fields are ignored (never stored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    userId: Identifier | None = Field(
        default=None, description="Authenticated shopper id (pseudonymized); this or `anonId` is required."
    )
    anonId: Identifier | None = Field(
        default=None, description="Anonymous browser id (pseudonymized); this or `userId` is required."
    )

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.userId is None and self.anonId is None:
            raise PydanticCustomError(
                "missing_visitor", "one of userId or anonId is required", {"field": "userId"}
            )
        return self


class LakeEvent(_EventFields):
    """One event as stored in the lake: pseudonymous ids only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    userId: str | None = Field(default=None, description="Pseudonym of the user id (keyed hash).")
    anonId: str | None = Field(default=None, description="Pseudonym of the anonymous id (keyed hash).")
    receivedAt: datetime = Field(description="When the ingest API accepted the event (UTC).")
    schemaVersion: int = Field(default=LAKE_SCHEMA_VERSION, description="Version of this record layout.")


class LakeRecord(TypedDict, total=False):
    """A `LakeEvent` as a plain dict: what the ingest hot path builds and serializes.

    Building a model per event costs more than the rest of ingestion together; the record is
    made from an already validated `ShopEvent`, and tests check that every record written
    validates as a `LakeEvent` and that the two declare the same fields.
    """

    eventId: str
    eventType: EventType
    timestamp: datetime
    sessionId: str
    productId: str
    category: str
    quantity: int
    price: float
    context: str
    recommendationId: str
    query: str
    results: list[str]
    sampleRate: int
    userId: str
    anonId: str
    receivedAt: datetime
    schemaVersion: int


class EventRejection(BaseModel):
    """Why one event of a request was not accepted (one entry per problem found)."""

    index: int = Field(description="Position of the event in `events` (0 for a single event).")
    field: str = Field(description="The offending field (`event` when the event is not an object).")
    reason: str = Field(description="Human-readable reason.")
    code: str = Field(description="Machine-readable reason, e.g. `missing`, `timestamp_in_future`.")


class EventsAccepted(BaseModel):
    """202 answer of `POST /api/events`: the valid events are stored, the rest are listed."""

    accepted: int = Field(
        description="Valid events of the request: stored, or left out of the lake by sampling "
        "(`sampledOut`) or by the per-visitor cap (`overCap`)."
    )
    rejectedCount: int = Field(description="Events not stored.")
    rejected: list[EventRejection] = Field(description="Each rejected event's index, field and reason.")
    sampledOut: int = Field(
        default=0,
        description="Valid events the shop's sampling rules leave out of the lake (one in N of a "
        "type is kept); they still count for the shopper's live session.",
    )
    overCap: int = Field(
        default=0,
        description="Valid events left out of the lake and of the live session because their "
        "visitor (userId or anonId) already sent the shop's hourly maximum this clock hour "
        "(`VISITOR_EVENTS_PER_HOUR`); sending them again does not help.",
    )
