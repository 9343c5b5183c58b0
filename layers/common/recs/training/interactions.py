"""From lake events to indexed interactions: dedupe, window, exclusions, identity merge."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.models.events import EventType

EVENT_CODES: dict[str, int] = {t.value: i for i, t in enumerate(EventType)}
PURCHASE_CODE = EVENT_CODES[EventType.PURCHASE.value]
ADD_TO_CART_CODE = EVENT_CODES[EventType.ADD_TO_CART.value]


@dataclass
class Interactions:
    """Columnar interactions over dense user and item indices."""

    users: list[str]
    items: list[str]
    item_category: list[str | None]
    user: npt.NDArray[np.int32]
    item: npt.NDArray[np.int32]
    event: npt.NDArray[np.int8]
    timestamp: npt.NDArray[np.float64]  # epoch seconds
    quantity: npt.NDArray[np.float32]
    basket: npt.NDArray[np.int64]  # session index (-1 when no session), for co-occurrence
    stats: dict[str, int]

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return int(self.user.shape[0])


def build_interactions(
    events: Iterable[Mapping[str, Any]],
    *,
    start: datetime,
    end: datetime,
    excluded_user: Callable[[str], bool],
) -> Interactions:
    """Deduplicate by eventId, keep events in [start, end), drop excluded users, and credit an
    anonymous visitor's history to the user when some event carries both ids."""
    seen: set[str] = set()
    kept: list[Mapping[str, Any]] = []
    anon_to_user: dict[str, str] = {}
    duplicates = outside = 0
    start_ts, end_ts = start.timestamp(), end.timestamp()
    for event in events:
        event_id = event.get("eventId")
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(str(event_id))
        ts = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00")).timestamp()
        if not start_ts <= ts < end_ts:
            outside += 1
            continue
        if event.get("userId") and event.get("anonId"):
            anon_to_user[str(event["anonId"])] = str(event["userId"])
        kept.append({**event, "_ts": ts})

    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    categories: dict[str, str | None] = {}
    session_index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    codes: list[int] = []
    stamps: list[float] = []
    quantities: list[float] = []
    baskets: list[int] = []
    excluded = 0
    for event in kept:
        product = event.get("productId")
        if not product:
            continue  # searches carry no product; their clicks arrive as search_result_click
        visitor = event.get("userId") or anon_to_user.get(str(event.get("anonId"))) or event.get("anonId")
        if not visitor:
            continue
        visitor = str(visitor)
        if excluded_user(visitor):
            excluded += 1
            continue
        product = str(product)
        rows.append(user_index.setdefault(visitor, len(user_index)))
        cols.append(item_index.setdefault(product, len(item_index)))
        if event.get("category") and not categories.get(product):
            categories[product] = str(event["category"])
        codes.append(EVENT_CODES[str(event["eventType"])])
        stamps.append(float(event["_ts"]))
        quantities.append(float(event.get("quantity") or 1))
        session = event.get("sessionId")
        baskets.append(session_index.setdefault(str(session), len(session_index)) if session else -1)

    items = list(item_index)
    return Interactions(
        users=list(user_index),
        items=items,
        item_category=[categories.get(p) for p in items],
        user=np.asarray(rows, dtype=np.int32),
        item=np.asarray(cols, dtype=np.int32),
        event=np.asarray(codes, dtype=np.int8),
        timestamp=np.asarray(stamps, dtype=np.float64),
        quantity=np.asarray(quantities, dtype=np.float32),
        basket=np.asarray(baskets, dtype=np.int64),
        stats={
            "eventsRead": len(seen) + duplicates,
            "duplicatesDropped": duplicates,
            "outsideWindow": outside,
            "excludedUserEvents": excluded,
            "interactions": len(rows),
            "users": len(user_index),
            "items": len(items),
            "anonymousMerged": len(anon_to_user),
        },
    )
