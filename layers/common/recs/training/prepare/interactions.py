"""From events to indexed interactions: window, dedupe by eventId, identity merge, exclusions.

Events stream through `InteractionBuilder.add` into compact typed columns (about 40 bytes per
event, never one dict per event), so a Lambda can hold tens of millions of them. `build` then
does the set-wise work with numpy: keep the first copy of each eventId, keep the window, credit
an anonymous visitor's history to the user it logged in as, drop excluded (opted-out, erased)
visitors and give users and items dense indices.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.contracts.events import EventType

EVENT_CODES: dict[str, int] = {t.value: i for i, t in enumerate(EventType)}
PURCHASE_CODE = EVENT_CODES[EventType.PURCHASE.value]
ADD_TO_CART_CODE = EVENT_CODES[EventType.ADD_TO_CART.value]
_LOW_64 = (1 << 64) - 1


@dataclass
class Interactions:
    """Columnar interactions over dense visitor and item indices.

    Attributes
    ----------
    users
        Visitor key per index: the user id (a pseudonym in the lake, the raw id offline), or
        the anonymous id of a visitor never seen logged in.
    is_user
        True where the visitor is a known user (only they get a stored list).
    items, item_category
        Product id and its category (None when no event or catalog named one) per index.
    user, item, event, timestamp, quantity, basket
        One entry per interaction: indices, event-type code, epoch seconds, units, and the
        session index (-1 without a session) used for "bought together".
    stats
        Counts of what was read, dropped and kept.
    """

    users: list[str]
    is_user: npt.NDArray[np.bool_]
    items: list[str]
    item_category: list[str | None]
    user: npt.NDArray[np.int32]
    item: npt.NDArray[np.int32]
    event: npt.NDArray[np.int8]
    timestamp: npt.NDArray[np.float64]
    quantity: npt.NDArray[np.float32]
    basket: npt.NDArray[np.int64]
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def subset(self, mask: npt.NDArray[np.bool_]) -> Interactions:
        """The interactions where ``mask`` is True, over the same user and item indices."""
        return Interactions(
            users=self.users,
            is_user=self.is_user,
            items=self.items,
            item_category=self.item_category,
            user=self.user[mask],
            item=self.item[mask],
            event=self.event[mask],
            timestamp=self.timestamp[mask],
            quantity=self.quantity[mask],
            basket=self.basket[mask],
            stats=dict(self.stats),
        )


def parse_timestamp(value: Any) -> float:
    """Epoch seconds of an ISO-8601 timestamp with a zone (``Z`` accepted)."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a zone")
    return parsed.timestamp()


def _event_id_halves(event_id: str) -> tuple[int, int]:
    """A 128-bit key for deduplication: the UUID itself, or a digest of any other id."""
    try:
        value = int(event_id.replace("-", ""), 16)
        if value >> 128:
            raise ValueError("longer than a UUID")
    except ValueError:
        value = int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=16).digest(), "big")
    return value >> 64, value & _LOW_64


class InteractionBuilder:
    """Accumulates events; `build` turns them into `Interactions`.

    Visitors are kept in two namespaces (user ids, anonymous ids) so that the same string used
    as both never merges by accident; only an event carrying both ids links them.
    """

    def __init__(self) -> None:
        self._user_index: dict[str, int] = {}
        self._anon_index: dict[str, int] = {}
        self._item_index: dict[str, int] = {}
        self._session_index: dict[str, int] = {}
        self._category: dict[str, str] = {}
        # Visitor per event: users >= 0, anonymous visitors as -(index + 1).
        self._visitor = array("i")
        self._item = array("i")
        self._event = array("b")
        self._timestamp = array("d")
        self._quantity = array("f")
        self._session = array("i")
        self._id_high = array("Q")
        self._id_low = array("Q")
        # anonymous index -> (user index, time) of events carrying both ids.
        self._link_anon = array("i")
        self._link_user = array("i")
        self._link_time = array("d")
        self.read = 0
        self.malformed = 0
        self.without_product = 0

    def add_all(self, events: Iterable[Mapping[str, Any]]) -> InteractionBuilder:
        for event in events:
            self.add(event)
        return self

    def add(self, event: Mapping[str, Any]) -> None:
        """Record one event of the event schema (docs/architecture.md, Events); a malformed one is
        counted, not raised."""
        self.read += 1
        try:
            code = EVENT_CODES[str(event["eventType"])]
            stamp = parse_timestamp(event["timestamp"])
            event_id = str(event["eventId"])
        except (KeyError, ValueError, TypeError):
            self.malformed += 1
            return
        user_id, anon_id = event.get("userId"), event.get("anonId")
        if not user_id and not anon_id:
            self.malformed += 1
            return
        anon = self._anon_index.setdefault(str(anon_id), len(self._anon_index)) if anon_id else -1
        user = self._user_index.setdefault(str(user_id), len(self._user_index)) if user_id else -1
        if user >= 0 and anon >= 0:
            self._link_anon.append(anon)
            self._link_user.append(user)
            self._link_time.append(stamp)
        product = event.get("productId")
        if not product:
            # Searches carry no product; their clicks arrive as search_result_click events.
            self.without_product += 1
            return
        product = str(product)
        category = event.get("category")
        if category and product not in self._category:
            self._category[product] = str(category)
        high, low = _event_id_halves(event_id)
        session = event.get("sessionId")
        quantity = event.get("quantity")
        self._visitor.append(user if user >= 0 else -(anon + 1))
        self._item.append(self._item_index.setdefault(product, len(self._item_index)))
        self._event.append(code)
        self._timestamp.append(stamp)
        self._quantity.append(float(quantity) if isinstance(quantity, int | float) and quantity > 0 else 1.0)
        self._session.append(
            self._session_index.setdefault(str(session), len(self._session_index)) if session else -1
        )
        self._id_high.append(high)
        self._id_low.append(low)

    def latest_timestamp(self) -> float | None:
        """The newest event time seen (the offline command's default end of the window)."""
        return max(self._timestamp) if self._timestamp else None

    def build(
        self,
        *,
        start_ts: float,
        end_ts: float,
        excluded: Callable[[str, bool], bool] = lambda _visitor, _is_user: False,
    ) -> Interactions:
        """Interactions in ``[start_ts, end_ts)``.

        Parameters
        ----------
        start_ts, end_ts
            The window, epoch seconds.
        excluded
            ``excluded(visitor_id, is_user)``: True for visitors whose events must not be used
            (opted out, erased). Called once per distinct visitor after identities are merged.

        Returns
        -------
        Interactions
        """
        stamp = np.frombuffer(self._timestamp, dtype=np.float64)
        n = stamp.size
        high = np.frombuffer(self._id_high, dtype=np.uint64)
        low = np.frombuffer(self._id_low, dtype=np.uint64)
        # First copy of each eventId wins (a client retry re-sends the same event later).
        order = np.lexsort((np.arange(n), low, high))
        first = np.ones(n, dtype=np.bool_)
        if n:
            first[1:] = (high[order][1:] != high[order][:-1]) | (low[order][1:] != low[order][:-1])
        keep = np.zeros(n, dtype=np.bool_)
        keep[order[first]] = True
        duplicates = int(n - keep.sum())
        inside = (stamp >= start_ts) & (stamp < end_ts)
        outside = int((keep & ~inside).sum())
        keep &= inside

        visitor = self._merged_visitors()
        n_users_raw = len(self._user_index)
        names = _invert(self._user_index) + _invert(self._anon_index)
        present = np.unique(visitor[keep])
        is_user_raw = present < n_users_raw
        drop = np.array(
            [
                excluded(names[v], bool(u))
                for v, u in zip(present.tolist(), is_user_raw.tolist(), strict=True)
            ],
            dtype=np.bool_,
        )
        dropped_visitor = np.zeros(len(names), dtype=np.bool_)
        dropped_visitor[present[drop]] = True
        excluded_events = int((keep & dropped_visitor[visitor]).sum())
        keep &= ~dropped_visitor[visitor]

        visitors, user_index = np.unique(visitor[keep], return_inverse=True)
        item_raw = np.frombuffer(self._item, dtype=np.int32)[keep]
        item_ids, item_index = np.unique(item_raw, return_inverse=True)
        product_names = _invert(self._item_index)
        items = [product_names[i] for i in item_ids.tolist()]
        return Interactions(
            users=[names[v] for v in visitors.tolist()],
            is_user=visitors < n_users_raw,
            items=items,
            item_category=[self._category.get(p) for p in items],
            user=user_index.astype(np.int32),
            item=item_index.astype(np.int32),
            event=np.frombuffer(self._event, dtype=np.int8)[keep].copy(),
            timestamp=stamp[keep].copy(),
            quantity=np.frombuffer(self._quantity, dtype=np.float32)[keep].copy(),
            basket=np.frombuffer(self._session, dtype=np.int32)[keep].astype(np.int64),
            stats={
                "eventsRead": self.read,
                "malformed": self.malformed,
                "withoutProduct": self.without_product,
                "duplicatesDropped": duplicates,
                "outsideWindow": outside,
                "excludedVisitors": int(drop.sum()),
                "excludedVisitorEvents": excluded_events,
                "anonymousMerged": int(self._linked_anonymous().size),
                "interactions": int(keep.sum()),
                "users": int((visitors < n_users_raw).sum()),
                "anonymousVisitors": int((visitors >= n_users_raw).sum()),
                "items": len(items),
            },
        )

    def _linked_anonymous(self) -> npt.NDArray[np.int32]:
        return np.unique(np.frombuffer(self._link_anon, dtype=np.int32))

    def _merged_visitors(self) -> npt.NDArray[np.int64]:
        """Visitor of each event in one index space: users first, then anonymous visitors;
        a linked anonymous visitor becomes the user of its latest login."""
        n_users = len(self._user_index)
        raw = np.frombuffer(self._visitor, dtype=np.int32).astype(np.int64)
        if not self._anon_index:
            return raw
        target = np.arange(len(self._anon_index), dtype=np.int64) + n_users
        anon = np.frombuffer(self._link_anon, dtype=np.int32)
        if anon.size:
            # Sorted by time, the last assignment per anonymous id (the latest login) wins.
            order = np.argsort(np.frombuffer(self._link_time, dtype=np.float64), kind="stable")
            target[anon[order]] = np.frombuffer(self._link_user, dtype=np.int32)[order]
        return np.where(raw >= 0, raw, target[np.maximum(-raw - 1, 0)])


def _invert(index: dict[str, int]) -> list[str]:
    names = [""] * len(index)
    for name, position in index.items():
        names[position] = name
    return names


def build_interactions(
    events: Iterable[Mapping[str, Any]],
    *,
    start_ts: float,
    end_ts: float,
    excluded: Callable[[str, bool], bool] = lambda _visitor, _is_user: False,
) -> Interactions:
    """One-call form of `InteractionBuilder` for events already in memory (tests, small files)."""
    return InteractionBuilder().add_all(events).build(start_ts=start_ts, end_ts=end_ts, excluded=excluded)
