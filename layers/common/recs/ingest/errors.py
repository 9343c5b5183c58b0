"""Typed errors of ingestion (mapped to HTTP in recs.api.errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from recs.errors import InvalidRequestError

if TYPE_CHECKING:  # the recommend and privacy functions import this module, not the event models
    from recs.contracts.events import EventRejection


class NoValidEventsError(InvalidRequestError):
    """400: not one event of the request is valid; `rejections` says why, event by event."""

    def __init__(self, rejections: Sequence[EventRejection], received: int, batch: bool) -> None:
        # `errors` names `events[i].field` in a batch and just `field` for a single event.
        fields: dict[str, str] = {}
        for rejection in rejections:
            name = f"events[{rejection.index}].{rejection.field}" if batch else rejection.field
            fields.setdefault(name, rejection.reason)
        super().__init__("no valid events", fields, status=400)
        self.rejections = list(rejections)
        self.received = received

    def body(self) -> dict[str, Any]:
        # The usual error shape, plus the same per-event list a partly accepted batch gets.
        return {
            **super().body(),
            "accepted": 0,
            "rejectedCount": len({r.index for r in self.rejections}),
            "rejected": [r.model_dump() for r in self.rejections],
        }
