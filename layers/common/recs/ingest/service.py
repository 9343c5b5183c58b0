"""POST /api/events: validate each event, keep the valid ones, deliver them, report the rest."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from recs.domain.pseudonym import Pseudonymizer
from recs.errors import InvalidRequestError
from recs.ingest.scrub import to_lake_event
from recs.ingest.session_signal import SessionSignal
from recs.models.events import LakeEvent, ShopEvent
from recs.ports import EventSink

MAX_EVENTS_PER_REQUEST = 500


@dataclass(frozen=True)
class Rejection:
    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class IngestResult:
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": [r.as_dict() for r in self.rejected],
            "rejectedCount": len(self.rejected),
        }


def split_payload(payload: Any) -> list[Any]:
    """One event, or {"events": [...]} with 1..500 events."""
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise InvalidRequestError("events must be a list", {"events": "must be a list of events"})
        if not events:
            raise InvalidRequestError("events is empty", {"events": "must contain at least one event"})
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise InvalidRequestError(
                f"too many events: {len(events)} > {MAX_EVENTS_PER_REQUEST}",
                {"events": f"at most {MAX_EVENTS_PER_REQUEST} events per request"},
                status=413,
            )
        return events
    if isinstance(payload, dict):
        return [payload]
    raise InvalidRequestError("body must be a JSON object", {"body": 'must be an event or {"events": [...]}'})


class IngestService:
    def __init__(
        self,
        sink: EventSink,
        pseudonyms: Pseudonymizer,
        session_signal: SessionSignal | None,
        *,
        max_age: timedelta,
        max_future: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._sink = sink
        self._pseudonyms = pseudonyms
        self._session = session_signal
        self._max_age = max_age
        self._max_future = max_future
        self._clock = clock

    def validate(self, raw_events: Sequence[Any]) -> tuple[list[tuple[int, ShopEvent]], list[Rejection]]:
        now = self._clock()
        valid: list[tuple[int, ShopEvent]] = []
        rejected: list[Rejection] = []
        for index, raw in enumerate(raw_events):
            if not isinstance(raw, dict):
                rejected.append(Rejection(index, "event", "must be a JSON object"))
                continue
            try:
                event = ShopEvent.model_validate(raw)
            except ValidationError as exc:
                error = exc.errors()[0]
                location = ".".join(str(part) for part in error["loc"]) or _field_from_message(error["msg"])
                rejected.append(Rejection(index, location, error["msg"]))
                continue
            if event.timestamp > now + self._max_future:
                rejected.append(Rejection(index, "timestamp", "is in the future"))
                continue
            if event.timestamp < now - self._max_age:
                rejected.append(Rejection(index, "timestamp", f"is older than {self._max_age.days} days"))
                continue
            valid.append((index, event))
        return valid, rejected

    def ingest(self, payload: Any) -> IngestResult:
        raw_events = split_payload(payload)
        valid, rejected = self.validate(raw_events)
        if not valid:
            raise InvalidRequestError(
                "no valid events", {f"events[{r.index}].{r.field}": r.reason for r in rejected}
            )
        received_at = self._clock()
        lake_events = [to_lake_event(event, self._pseudonyms, received_at) for _, event in valid]
        # Delivery first: the session signal is a convenience, the lake is the record.
        self._sink.put_records([encode_lake_record(e) for e in lake_events])
        if self._session is not None:
            self._session.record(lake_events)
        return IngestResult(
            accepted=len(valid), rejected=rejected, event_ids=[e.eventId for e in lake_events]
        )


def encode_lake_record(event: LakeEvent) -> bytes:
    """One newline-delimited JSON record."""
    return (event.model_dump_json(exclude_none=True) + "\n").encode("utf-8")


def _field_from_message(message: str) -> str:
    # Model-level validators (e.g. "productId is required ...") name their field first.
    first = message.replace("Value error, ", "").split(" ", 1)[0]
    return first if first and first[0].islower() else "event"


def parse_json_body(body: str | None) -> Any:
    if body is None or body.strip() == "":
        raise InvalidRequestError("empty body", {"body": "is empty"})
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError("body is not JSON", {"body": f"is not valid JSON: {exc.msg}"}) from exc
