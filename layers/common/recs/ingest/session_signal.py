"""The live session signal: each visitor's most recent products, for in-session personalization."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from recs.models.events import EventType, LakeEvent
from recs.ports import KeyValueTable
from recs.storage import preference_key, session_key

_SIGNAL_EVENTS = {
    EventType.VIEW,
    EventType.CLICK,
    EventType.ADD_TO_CART,
    EventType.PURCHASE,
    EventType.SEARCH_RESULT_CLICK,
}


class SessionSignal:
    def __init__(
        self, table: KeyValueTable, *, max_items: int, ttl_seconds: int, clock: Callable[[], datetime]
    ) -> None:
        self._table = table
        self._max_items = max_items
        self._ttl = ttl_seconds
        self._clock = clock

    def record(self, events: Sequence[LakeEvent]) -> None:
        by_visitor: dict[str, list[LakeEvent]] = defaultdict(list)
        for event in events:
            if event.eventType in _SIGNAL_EVENTS and event.productId:
                for visitor in (event.userId, event.anonId):
                    if visitor:
                        by_visitor[visitor].append(event)
        if not by_visitor:
            return
        users = [v for v in by_visitor if v.startswith("u_")]
        prefs = self._table.get_many([preference_key(u) for u in users]) if users else []
        opted_out = {
            u for u, pref in zip(users, prefs, strict=True) if pref and pref.get("recommendations") is False
        }
        visitors = [v for v in by_visitor if v not in opted_out]
        current = self._table.get_many([session_key(v) for v in visitors])
        expires = int(self._clock().timestamp()) + self._ttl
        rows = []
        for visitor, row in zip(visitors, current, strict=True):
            recent: list[list[str]] = json.loads(row["d"]) if row else []
            for event in sorted(by_visitor[visitor], key=lambda e: e.timestamp):
                assert event.productId is not None
                recent = [r for r in recent if r[0] != event.productId]
                recent.insert(0, [event.productId, event.eventType.value, event.timestamp.isoformat()])
            pk, sk = session_key(visitor)
            rows.append(
                {"pk": pk, "sk": sk, "d": json.dumps(recent[: self._max_items]), "expiresAt": expires}
            )
        self._table.put_many(rows)
