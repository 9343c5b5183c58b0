"""From events to indexed interactions: window, dedupe by eventId, identity merge, exclusions.

Events stream through `InteractionBuilder.add` into compact typed columns (about 40 bytes per
event, never one dict per event), so a Lambda can hold tens of millions of them. `build` then
does the set-wise work with numpy: keep the first copy of each eventId, keep the window, credit
an anonymous visitor's history to the user it logged in as, drop events of products outside a
known catalog and of excluded (opted-out, erased) visitors and give users and items dense indices.
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
from recs.training.prepare.blocks import EventBlock

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
    weight
        How many events each interaction stands for (its ``sampleRate``: the shop keeps one in
        N of a sampled type, `recs.ingest.sampling`); None when every one stands for itself.
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
    weight: npt.NDArray[np.float32] | None = None
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
            weight=None if self.weight is None else self.weight[mask],
            stats=dict(self.stats),
        )


def parse_timestamp(value: Any) -> float:
    """Epoch seconds of an ISO-8601 timestamp with a zone (``Z`` accepted)."""
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a zone")
    return parsed.timestamp()


def event_id_halves(event_id: str) -> tuple[int, int]:
    """A 128-bit key for deduplication: the UUID itself, or a digest of any other id."""
    try:
        value = int(event_id.replace("-", ""), 16)
        if value >> 128:
            raise ValueError("longer than a UUID")
    except ValueError:
        value = int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=16).digest(), "big")
    return value >> 64, value & _LOW_64


class InteractionBuilder:
    """Accumulates events; `build` turns them into `Interactions`, once (it releases the
    per-event columns as it goes, so that the peak stays near the columns' own size).

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
        self._weight = array("f")
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
        self._spent = False

    def add_all(self, events: Iterable[Mapping[str, Any]]) -> InteractionBuilder:
        for event in events:
            self.add(event)
        return self

    def add(self, event: Mapping[str, Any]) -> None:
        """Record one event of the event schema (docs/architecture.md, Events); a malformed one is
        counted, not raised."""
        self._still_open()
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
        high, low = event_id_halves(event_id)
        session = event.get("sessionId")
        quantity = event.get("quantity")
        self._visitor.append(user if user >= 0 else -(anon + 1))
        self._item.append(self._item_index.setdefault(product, len(self._item_index)))
        self._event.append(code)
        self._timestamp.append(stamp)
        self._quantity.append(count_or_one(quantity))
        self._weight.append(count_or_one(event.get("sampleRate")))
        self._session.append(
            self._session_index.setdefault(str(session), len(self._session_index)) if session else -1
        )
        self._id_high.append(high)
        self._id_low.append(low)

    def add_block(self, block: EventBlock) -> None:
        """Record a lake object's events decoded as columns (`recs.training.prepare.columnar`):
        the same result as `add` on each of its records, with one index lookup per distinct id
        instead of one per event."""
        self._still_open()
        self.read += block.read
        self.malformed += block.malformed
        self.without_product += block.without_product
        users = _indices(self._user_index, block.users)
        anons = _indices(self._anon_index, block.anons)
        self._link_anon.frombytes(anons[block.link_anon].tobytes())
        self._link_user.frombytes(users[block.link_user].tobytes())
        self._link_time.frombytes(block.link_time.tobytes())
        for product, category in block.categories.items():
            self._category.setdefault(product, category)
        visitor = np.where(
            block.user_local >= 0,
            users[np.maximum(block.user_local, 0)] if users.size else 0,
            -(anons[np.maximum(block.anon_local, 0)] + 1) if anons.size else 0,
        ).astype(np.int32)
        sessions = _indices(self._session_index, block.sessions)
        session = np.where(
            block.session_local >= 0, sessions[np.maximum(block.session_local, 0)] if sessions.size else 0, -1
        ).astype(np.int32)
        self._visitor.frombytes(visitor.tobytes())
        self._item.frombytes(_indices(self._item_index, block.items)[block.item_local].tobytes())
        self._event.frombytes(block.event.tobytes())
        self._timestamp.frombytes(block.timestamp.tobytes())
        self._quantity.frombytes(block.quantity.tobytes())
        self._weight.frombytes(block.weight.tobytes())
        self._session.frombytes(session.tobytes())
        self._id_high.frombytes(block.id_high.tobytes())
        self._id_low.frombytes(block.id_low.tobytes())

    def latest_timestamp(self) -> float | None:
        """The newest event time seen (the offline command's default end of the window)."""
        return max(self._timestamp) if self._timestamp else None

    def build(
        self,
        *,
        start_ts: float,
        end_ts: float,
        excluded: Callable[[str, bool], bool] = lambda _visitor, _is_user: False,
        known_product: Callable[[str], bool] | None = None,
    ) -> Interactions:
        """Interactions in ``[start_ts, end_ts)``.

        Parameters
        ----------
        start_ts, end_ts
            The window, epoch seconds.
        excluded
            ``excluded(visitor_id, is_user)``: True for visitors whose events must not be used
            (opted out, erased). Called once per distinct visitor after identities are merged,
            and before that once per linked anonymous id, whose own anonymous events it decides.
        known_product
            ``known_product(product_id)``: False for products whose events must not be used (not in
            the shop's catalog export, `Catalog.known`); called once per distinct product. None
            (no catalog): every product counts.

        Returns
        -------
        Interactions
        """
        # Memory: each per-event column is released as soon as its output exists, and every
        # temporary is at most 8 bytes per event (Prepare's peak per event: docs/benchmarks.md).
        self._spend()
        stamp = np.frombuffer(self._timestamp, dtype=np.float64)
        n = stamp.size
        keep = self._first_copies()
        self._id_high, self._id_low = array("Q"), array("Q")
        duplicates = int(n - np.count_nonzero(keep))
        inside = (stamp >= start_ts) & (stamp < end_ts)
        outside = int(np.count_nonzero(keep & ~inside))
        keep &= inside
        del inside
        item = self._release("_item", np.int32)
        unknown_events = 0
        if known_product is not None and self._item_index:
            unknown = ~np.array([known_product(p) for p in _invert(self._item_index)], dtype=np.bool_)
            unknown_at = unknown[item]
            unknown_events = int(np.count_nonzero(keep & unknown_at))
            keep &= ~unknown_at
            del unknown_at

        own_excluded, linked_excluded = self._excluded_linked_anonymous(keep, excluded)
        excluded_events = int(np.count_nonzero(own_excluded))
        keep &= ~own_excluded
        del own_excluded
        visitor = self._merged_visitors()
        self._visitor = array("i")
        n_users_raw = len(self._user_index)
        names = _invert(self._user_index) + _invert(self._anon_index)
        present = _used(visitor[keep], len(names))
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
        dropped = dropped_visitor[visitor]
        excluded_events += int(np.count_nonzero(keep & dropped))
        keep &= ~dropped
        del dropped

        visitors, user_index = _dense(visitor[keep], len(names))
        del visitor
        item_ids, item_index = _dense(item[keep], len(self._item_index))
        del item
        timestamp = stamp[keep]
        del stamp
        self._timestamp = array("d")
        product_names = _invert(self._item_index)
        items = [product_names[i] for i in item_ids.tolist()]
        return Interactions(
            users=[names[v] for v in visitors.tolist()],
            is_user=visitors < n_users_raw,
            items=items,
            item_category=[self._category.get(p) for p in items],
            user=user_index,
            item=item_index,
            event=self._release("_event", np.int8)[keep],
            timestamp=timestamp,
            quantity=self._release("_quantity", np.float32)[keep],
            weight=_unless_all_ones(self._release("_weight", np.float32)[keep]),
            basket=self._release("_session", np.int32)[keep].astype(np.int64),
            stats={
                "eventsRead": self.read,
                "malformed": self.malformed,
                "withoutProduct": self.without_product,
                "duplicatesDropped": duplicates,
                "outsideWindow": outside,
                "unknownProductEvents": unknown_events,
                "excludedVisitors": int(drop.sum()),
                "excludedLinkedAnonymousIds": linked_excluded,
                "excludedVisitorEvents": excluded_events,
                "anonymousMerged": int(self._linked_anonymous().size),
                "interactions": int(np.count_nonzero(keep)),
                "users": int((visitors < n_users_raw).sum()),
                "anonymousVisitors": int((visitors >= n_users_raw).sum()),
                "items": len(items),
            },
        )

    def _excluded_linked_anonymous(
        self, keep: npt.NDArray[np.bool_], excluded: Callable[[str, bool], bool]
    ) -> tuple[npt.NDArray[np.bool_], int]:
        """The anonymous events (no user id) of linked anonymous ids that are themselves excluded,
        and how many such ids there are.

        A login merges an anonymous id's history into the user's, so the merged visitor is the
        user; but the holder of the anonymous id may have opted out or erased it (a signed
        anonymous id's rights): its own anonymous events stay out whatever the user chose. The
        user's signed-in events are the user's and follow the user's choice alone.
        """
        own = np.zeros(keep.size, dtype=np.bool_)
        linked = self._linked_anonymous()
        if not linked.size:
            return own, 0
        anon_names = _invert(self._anon_index)
        out = np.zeros(len(anon_names), dtype=np.bool_)
        for index in linked.tolist():
            out[index] = excluded(anon_names[index], False)
        if not out.any():
            return own, 0
        raw = np.frombuffer(self._visitor, dtype=np.int32)
        anonymous = raw < 0
        own[anonymous] = out[-raw[anonymous] - 1]
        own &= keep
        return own, int(out.sum())

    def _linked_anonymous(self) -> npt.NDArray[np.int32]:
        return np.unique(np.frombuffer(self._link_anon, dtype=np.int32))

    def _still_open(self) -> None:
        if self._spent:
            raise RuntimeError("this InteractionBuilder has built its interactions already")

    def _spend(self) -> None:
        """A builder builds once: `build` releases the columns it reads."""
        self._still_open()
        self._spent = True

    def _release(self, name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        """A per-event column as numpy, no longer held by the builder (freed with the result)."""
        column = getattr(self, name)
        setattr(self, name, array(column.typecode))
        return np.frombuffer(column, dtype=dtype)

    def _first_copies(self) -> npt.NDArray[np.bool_]:
        """True at the first copy of each eventId (a client retry re-sends the same event later)."""
        high = np.frombuffer(self._id_high, dtype=np.uint64)
        low = np.frombuffer(self._id_low, dtype=np.uint64)
        n = high.size
        keep = np.zeros(n, dtype=np.bool_)
        if not n:
            return keep
        order = np.lexsort((low, high))  # stable: copies of one id stay in the order they came
        first = np.empty(n, dtype=np.bool_)
        first[0] = True
        ordered = high[order]
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        ordered = low[order]
        first[1:] |= ordered[1:] != ordered[:-1]
        del ordered
        keep[order[first]] = True
        return keep

    def _merged_visitors(self) -> npt.NDArray[np.int32]:
        """Visitor of each event in one index space: users first, then anonymous visitors;
        a linked anonymous visitor becomes the user of its latest login."""
        n_users = len(self._user_index)
        visitor = np.frombuffer(self._visitor, dtype=np.int32).copy()
        if not self._anon_index:
            return visitor
        target = np.arange(len(self._anon_index), dtype=np.int32) + np.int32(n_users)
        anon = np.frombuffer(self._link_anon, dtype=np.int32)
        if anon.size:
            # Sorted by time, the last assignment per anonymous id (the latest login) wins.
            order = np.argsort(np.frombuffer(self._link_time, dtype=np.float64), kind="stable")
            target[anon[order]] = np.frombuffer(self._link_user, dtype=np.int32)[order]
        anonymous = visitor < 0
        visitor[anonymous] = target[-visitor[anonymous] - 1]
        return visitor


def count_or_one(value: Any) -> float:
    """A count a record gives (units, sample rate): a positive number, else 1."""
    return float(value) if isinstance(value, int | float) and value > 0 else 1.0


def _unless_all_ones(weight: npt.NDArray[np.float32]) -> npt.NDArray[np.float32] | None:
    return None if bool(np.all(weight == 1.0)) else weight


def _used(values: npt.NDArray[np.int32], size: int) -> npt.NDArray[np.intp]:
    """The distinct values among ``values`` (each in ``[0, size)``), ascending: `np.unique`
    without sorting the events."""
    used = np.zeros(size, dtype=np.bool_)
    used[values] = True
    return np.flatnonzero(used)


def _dense(values: npt.NDArray[np.int32], size: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]:
    """``np.unique(values, return_inverse=True)`` for values in ``[0, size)``, in linear time and
    4 bytes per value: the distinct values ascending, and each value's position among them."""
    used = np.zeros(size, dtype=np.bool_)
    used[values] = True
    position = np.cumsum(used, dtype=np.int32) - 1
    return np.flatnonzero(used), position[values]


def _indices(index: dict[str, int], names: list[str]) -> npt.NDArray[np.int32]:
    """The index of each name, new names numbered on in order (as `dict.setdefault` would)."""
    return np.array([index.setdefault(name, len(index)) for name in names], dtype=np.int32)


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
    known_product: Callable[[str], bool] | None = None,
) -> Interactions:
    """One-call form of `InteractionBuilder` for events already in memory (tests, small files)."""
    return (
        InteractionBuilder()
        .add_all(events)
        .build(start_ts=start_ts, end_ts=end_ts, excluded=excluded, known_product=known_product)
    )
