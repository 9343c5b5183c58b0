"""Validate the events of one request: the valid ones go on, each invalid one gets its reasons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError

from recs.contracts.events import EventRejection, ShopEvent
from recs.ingest.sampling import SamplingRules

_EVENTS = TypeAdapter(list[ShopEvent])

#: Enough to fix an event, small enough that 500 broken events make a modest response.
MAX_REASONS_PER_EVENT = 5

_NOT_AN_OBJECT = {"model_type", "dict_type", "model_attributes_type"}


@dataclass(frozen=True)
class Rejection:
    """One problem with one event of the request."""

    index: int
    field: str
    reason: str
    code: str

    def as_model(self) -> EventRejection:
        return EventRejection(index=self.index, field=self.field, reason=self.reason, code=self.code)


@dataclass(frozen=True)
class TimeWindow:
    """How far from the server's clock an event's timestamp may be."""

    max_age: timedelta
    max_future: timedelta


@dataclass(frozen=True)
class CheckedEvents:
    """The outcome of validating a request's events."""

    valid: list[ShopEvent]
    rejections: list[Rejection]
    received: int
    #: Each valid event's position in the request (what a later rejection of it must name).
    valid_indices: list[int]

    @property
    def rejected_count(self) -> int:
        return len({r.index for r in self.rejections})


def check_events(raw_events: Sequence[Any], now: datetime, window: TimeWindow) -> CheckedEvents:
    """Validate every event against `ShopEvent` and the time window, keeping request order.

    The whole list goes through one pydantic-core call; only when some events fail are the
    others validated again, without them (validation of one event never depends on another).

    Parameters
    ----------
    raw_events
        The decoded JSON values of the request's events.
    now
        The server's clock (aware).
    window
        Accepted timestamp range around `now`.

    Returns
    -------
    CheckedEvents
        Valid events and one `Rejection` per problem (at most `MAX_REASONS_PER_EVENT` per event).
    """
    try:
        events = _EVENTS.validate_python(raw_events)
        indices: Sequence[int] = range(len(raw_events))
        rejections: list[Rejection] = []
    except ValidationError as error:
        rejections = rejections_from(error)
        bad = {r.index for r in rejections}
        indices = [i for i in range(len(raw_events)) if i not in bad]
        events = _EVENTS.validate_python([raw_events[i] for i in indices])

    oldest, newest = now - window.max_age, now + window.max_future
    valid: list[ShopEvent] = []
    valid_indices: list[int] = []
    for index, event in zip(indices, events, strict=True):
        timestamp = event.timestamp
        if timestamp > newest:
            rejections.append(
                Rejection(
                    index,
                    "timestamp",
                    f"is more than {int(window.max_future.total_seconds())} seconds in the future",
                    "timestamp_in_future",
                )
            )
        elif timestamp < oldest:
            rejections.append(
                Rejection(
                    index,
                    "timestamp",
                    f"is older than the {window.max_age.days}-day retention window",
                    "timestamp_too_old",
                )
            )
        else:
            valid.append(event)
            valid_indices.append(index)
    rejections.sort(key=lambda r: r.index)
    return CheckedEvents(
        valid=valid, rejections=rejections, received=len(raw_events), valid_indices=valid_indices
    )


def refuse_all(checked: CheckedEvents, field: str, reason: str, code: str) -> CheckedEvents:
    """Every valid event rejected for one reason of the request as a whole (e.g. its sender)."""
    refused = [Rejection(index, field, reason, code) for index in checked.valid_indices]
    rejections = sorted([*checked.rejections, *refused], key=lambda r: r.index)
    return CheckedEvents(valid=[], rejections=rejections, received=checked.received, valid_indices=[])


def keep_declared_rates(checked: CheckedEvents, rules: SamplingRules) -> CheckedEvents:
    """Reject the valid events whose declared ``sampleRate`` is not the shop's rule for their
    type: a tracker configured otherwise would make training count them wrongly."""
    if all(event.sampleRate is None for event in checked.valid):
        return checked

    def refusal(index: int, event: ShopEvent) -> Rejection | None:
        rate = rules.rate(event.eventType)
        if event.sampleRate is None or event.sampleRate == rate:
            return None
        reason = f"must be {rate}: the shop keeps one in {rate} {event.eventType.value} events"
        return Rejection(index, "sampleRate", reason, "sample_rate_mismatch")

    return _refuse_some(checked, refusal)


def keep_callers_events(checked: CheckedEvents, subject: str) -> CheckedEvents:
    """Reject the valid events about another user than the verified caller `subject`; events
    about nobody in particular (no ``userId``) stay."""

    def refusal(index: int, event: ShopEvent) -> Rejection | None:
        if event.userId is None or event.userId == subject:
            return None
        return Rejection(index, "userId", "is not the bearer token's user", "not_the_callers_user")

    return _refuse_some(checked, refusal)


def _refuse_some(
    checked: CheckedEvents, refusal: Callable[[int, ShopEvent], Rejection | None]
) -> CheckedEvents:
    """The valid events `refusal` finds nothing against; the others join the rejections."""
    valid, indices, refused = [], [], []
    for index, event in zip(checked.valid_indices, checked.valid, strict=True):
        rejection = refusal(index, event)
        if rejection is None:
            valid.append(event)
            indices.append(index)
        else:
            refused.append(rejection)
    rejections = sorted([*checked.rejections, *refused], key=lambda r: r.index)
    return CheckedEvents(valid=valid, rejections=rejections, received=checked.received, valid_indices=indices)


def rejections_from(error: ValidationError) -> list[Rejection]:
    """pydantic errors of a list of events as (index, field, reason, code), capped per event."""
    per_event: dict[int, int] = {}
    rejections: list[Rejection] = []
    for item in error.errors(include_url=False, include_input=False):
        location = item["loc"]
        index = int(location[0])
        if per_event.get(index, 0) >= MAX_REASONS_PER_EVENT:
            continue
        per_event[index] = per_event.get(index, 0) + 1
        code = item["type"]
        path = ".".join(str(part) for part in location[1:])
        if not path:
            if code in _NOT_AN_OBJECT:
                rejections.append(Rejection(index, "event", "must be a JSON object", "not_an_object"))
                continue
            # Model-level checks name their field in the error context.
            path = str((item.get("ctx") or {}).get("field", "event"))
        reason = "is required" if code == "missing" else item["msg"]
        rejections.append(Rejection(index, path, reason, code))
    return rejections
