"""Builders for small, hand-written event streams with a known answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class EventFactory:
    """Events of the event schema (docs/architecture.md, Events), with deterministic ids and times
    before NOW."""

    def __init__(self) -> None:
        self._ids: Iterator[int] = iter(range(1, 10**9))

    def __call__(
        self,
        event_type: str = "view",
        *,
        user: str | None = "alice",
        anon: str | None = None,
        product: str | None = "p1",
        days_ago: float = 1.0,
        session: str | None = None,
        event_id: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        event: dict[str, Any] = {
            "eventId": event_id or str(uuid.UUID(int=next(self._ids))),
            "eventType": event_type,
            "timestamp": (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z"),
        }
        if user is not None:
            event["userId"] = user
        if anon is not None:
            event["anonId"] = anon
        if product is not None:
            event["productId"] = product
        if session is not None:
            event["sessionId"] = session
        event.update(extra)
        return event


@pytest.fixture
def make_event() -> EventFactory:
    return EventFactory()
