"""From events to indexed interactions: window, dedupe by eventId, identity merge, exclusions.

Events stream through `InteractionBuilder.add` (or `add_block`) into compact typed columns (23
to 25 bytes per event naming a product, never one dict per event), so a Lambda can hold hundreds
of millions of them. `build` then does the set-wise work with numpy: keep the first copy of each
eventId, keep the window, credit an anonymous visitor's history to the user it logged in as,
drop events of products outside a known catalog and of excluded (opted-out, erased) visitors and
give users and items dense indices, writing each output as it releases the column it came from.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from recs.contracts.events import EventType
from recs.training.prepare.blocks import EventBlock
from recs.training.prepare.columns import Column, MostlyOnes, SmallNumbers, Times
from recs.training.prepare.dedupe import event_keys, first_copies
from recs.training.prepare.free_heap import release_free_heap
from recs.training.prepare.id_numbers import IdNumbers, text_keys
from recs.training.prepare.name_numbers import NameNumbers

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
    basket: npt.NDArray[np.int32]
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


class _RecordRows:
    """Events `InteractionBuilder.add` took one at a time, waiting to move into the columns (so
    that each costs what an `array.append` costs)."""

    __slots__ = (
        "anon_local",
        "anons",
        "event",
        "id_high",
        "id_low",
        "item_local",
        "items",
        "link_anon",
        "link_time",
        "link_user",
        "quantity",
        "session",
        "timestamp",
        "user_local",
        "users",
        "weight",
    )

    def __init__(self) -> None:
        # The rows' own distinct ids, numbered in order of first appearance (an `EventBlock`'s
        # ``users``, ``anons`` and ``items``): the builder numbers them for the window on moving.
        self.users: dict[str, int] = {}
        self.anons: dict[str, int] = {}
        self.items: dict[str, int] = {}
        self.link_user = array("i")
        self.link_anon = array("i")
        self.link_time = array("d")
        self.user_local = array("i")
        self.anon_local = array("i")
        self.item_local = array("i")
        self.event = array("b")
        self.timestamp = array("d")
        self.quantity = array("f")
        self.weight = array("f")
        self.session = array("q")
        self.id_high = array("Q")
        self.id_low = array("Q")


class InteractionBuilder:
    """Accumulates events; `build` turns them into `Interactions`, once.

    Per event naming a product it holds the visitor, item (2 bytes while the products number
    fewer than 65,536: `recs.training.prepare.columns.SmallNumbers`), event type, time (4 bytes
    where it is whole milliseconds: `recs.training.prepare.columns.Times`), session and a 64-bit
    eventId key (`recs.training.prepare.dedupe`): 23 to 25 bytes, in segments `build` releases as
    it writes each output (`recs.training.prepare.columns`), and quantities and sample rates only
    where they are not 1. Visitors are kept in two namespaces (user ids, anonymous ids) so that
    the same string used as both never merges by accident; only an event carrying both ids links
    them. Their ids are numbered in `recs.training.prepare.name_numbers.NameNumbers` (the text in
    memory maps, not a dict of strings), a batch at a time: `add` collects a batch's distinct ids
    in small dicts, as a block of `add_block` arrives with them, and both number them alike.
    """

    def __init__(self) -> None:
        self._users = NameNumbers()
        self._anons = NameNumbers()
        # Products stay in a dict: a block names a few hundred, nearly all seen before, where a
        # dict's lookups cost a tenth of `NameNumbers`'s array operations; and a shop has far
        # fewer products than visitors.
        self._item_index: dict[str, int] = {}
        # Sessions need no name after Prepare: a 64-bit key each, numbered (not a dict of text).
        self._sessions = IdNumbers()
        self._category: dict[str, str] = {}
        # Visitor per event: users >= 0, anonymous visitors as -(index + 1).
        self._visitor = Column(np.int32)
        self._item = SmallNumbers()
        self._event = Column(np.int8)
        self._timestamp = Times()
        self._session = Column(np.int32)
        self._key = Column(np.uint64)
        self._quantity = MostlyOnes()
        self._weight = MostlyOnes()
        self._rows = _RecordRows()
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
        rows = self._rows
        anon = rows.anons.setdefault(str(anon_id), len(rows.anons)) if anon_id else -1
        user = rows.users.setdefault(str(user_id), len(rows.users)) if user_id else -1
        if user >= 0 and anon >= 0:
            rows.link_anon.append(anon)
            rows.link_user.append(user)
            rows.link_time.append(stamp)
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
        rows.user_local.append(user)
        rows.anon_local.append(anon)
        rows.item_local.append(rows.items.setdefault(product, len(rows.items)))
        rows.event.append(code)
        rows.timestamp.append(stamp)
        rows.quantity.append(count_or_one(quantity))
        rows.weight.append(count_or_one(event.get("sampleRate")))
        # Python's hash of a str is never -1: -1 stands for "no session" until `_move_records`.
        rows.session.append(hash(str(session)) if session else -1)
        rows.id_high.append(high)
        rows.id_low.append(low)
        if len(rows.id_low) >= _RECORD_ROWS:
            self._move_records()

    def add_block(self, block: EventBlock) -> None:
        """Record a lake object's events decoded as columns (`recs.training.prepare.columnar`):
        the same result as `add` on each of its records, with one index lookup per distinct id
        instead of one per event."""
        self._still_open()
        self._move_records()
        self.read += block.read
        self.malformed += block.malformed
        self.without_product += block.without_product
        for product, category in block.categories.items():
            self._category.setdefault(product, category)
        visitor = self._visitors(
            block.users, block.anons, block.user_local, block.anon_local, block.link_user, block.link_anon
        )
        self._link_time.frombytes(block.link_time.tobytes())
        sessions = self._sessions.number(text_keys(block.sessions))
        session = np.where(
            block.session_local >= 0, sessions[np.maximum(block.session_local, 0)] if sessions.size else 0, -1
        ).astype(np.int32)
        self._append(
            visitor=visitor,
            item=_indices(self._item_index, block.items)[block.item_local],
            event=block.event,
            micros=block.micros,
            quantity=block.quantity,
            weight=block.weight,
            session=session,
            key=block.key,
        )

    def latest_timestamp(self) -> float | None:
        """The newest event time seen (the offline command's default end of the window)."""
        self._move_records()
        return self._timestamp.latest()

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
        # Memory (Prepare's peak per event: docs/training.md, Prepare): one byte per event for
        # ``keep``; the keys go once the first copies are known; every other pass works a segment
        # at a time; each output is written a segment at a time as its input is released, so the
        # peak is the outputs (25 bytes per interaction), the visitors' names and ``keep``, or the
        # columns before it.
        self._spend()
        self._move_records()
        # Every event has its session's number now: the table goes before the outputs come.
        self._sessions = IdNumbers()
        # The reading's freed buffers go back to the system before the outputs come.
        release_free_heap()
        keys, self._key = self._key, Column(np.uint64)
        keep = first_copies(keys.segments())
        del keys
        n = keep.size
        duplicates = int(n - np.count_nonzero(keep))
        outside = 0
        for stamp, kept in self._along(self._timestamp, keep):
            inside = (stamp >= start_ts) & (stamp < end_ts)
            outside += int(np.count_nonzero(kept & ~inside))
            kept &= inside
        unknown_events = 0
        product_names = list(self._item_index)
        if known_product is not None and product_names:
            unknown = ~np.array([known_product(p) for p in product_names], dtype=np.bool_)
            for item, kept in self._along(self._item, keep):
                unknown_at = unknown[item]
                unknown_events += int(np.count_nonzero(kept & unknown_at))
                kept &= ~unknown_at

        excluded_events, linked_excluded = self._exclude_linked_anonymous(keep, excluded)
        self._merge_visitors()
        n_users_raw = len(self._users)
        names = self._users.names()
        names.extend(self._anons.names())
        # The names are strings now: their stores go before the outputs come.
        self._users, self._anons = NameNumbers(), NameNumbers()
        present = self._used(self._visitor, keep, len(names))
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
        for visitor, kept in self._along(self._visitor, keep):
            dropped = dropped_visitor[visitor]
            excluded_events += int(np.count_nonzero(kept & dropped))
            kept &= ~dropped

        visitors = self._used(self._visitor, keep, len(names))
        item_ids = self._used(self._item, keep, len(product_names))
        items = [product_names[i] for i in item_ids.tolist()]
        # Before each output and after the last, what the work before it freed goes back to the
        # system (recs.training.prepare.free_heap): the outputs are written in turn, each as its
        # input goes, and the heap would otherwise keep every step's temporaries resident.
        release_free_heap()
        return Interactions(
            users=[names[v] for v in visitors.tolist()],
            is_user=visitors < n_users_raw,
            items=items,
            item_category=[self._category.get(p) for p in items],
            user=_released(_take(self._visitor, keep, np.int32, _positions(visitors, len(names)))),
            item=_released(_take(self._item, keep, np.int32, _positions(item_ids, len(product_names)))),
            event=_released(_take(self._event, keep, np.int8)),
            timestamp=_released(_take(self._timestamp, keep, np.float64)),
            quantity=_released(self._quantity.take_kept(keep)),
            weight=_released(self._weight.take_kept(keep, ones_as_none=True)),
            basket=_released(_take(self._session, keep, np.int32)),
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

    def _append(self, **columns: npt.NDArray[Any]) -> None:
        self._visitor.extend(columns["visitor"])
        self._item.extend(columns["item"])
        self._event.extend(columns["event"])
        if "micros" in columns:
            self._timestamp.extend_micros(columns["micros"])
        else:
            self._timestamp.extend(columns["timestamp"])
        self._quantity.extend(columns["quantity"])
        self._weight.extend(columns["weight"])
        self._session.extend(columns["session"])
        self._key.extend(columns["key"])

    def _move_records(self) -> None:
        """Events `add` took, into the columns (before anything else is added, or read)."""
        rows = self._rows
        if not (rows.id_low or rows.users or rows.anons):
            return
        self._rows = _RecordRows()
        visitor = self._visitors(
            list(rows.users),
            list(rows.anons),
            np.frombuffer(rows.user_local, dtype=np.int32),
            np.frombuffer(rows.anon_local, dtype=np.int32),
            np.frombuffer(rows.link_user, dtype=np.int32),
            np.frombuffer(rows.link_anon, dtype=np.int32),
        )
        self._link_time.extend(rows.link_time)
        self._append(
            visitor=visitor,
            item=_indices(self._item_index, list(rows.items))[np.frombuffer(rows.item_local, dtype=np.int32)],
            event=np.frombuffer(rows.event, dtype=np.int8),
            timestamp=np.frombuffer(rows.timestamp, dtype=np.float64),
            quantity=np.frombuffer(rows.quantity, dtype=np.float32),
            weight=np.frombuffer(rows.weight, dtype=np.float32),
            session=self._session_numbers(np.frombuffer(rows.session, dtype=np.int64)),
            key=event_keys(
                np.frombuffer(rows.id_high, dtype=np.uint64), np.frombuffer(rows.id_low, dtype=np.uint64)
            ),
        )

    def _visitors(
        self,
        user_names: list[str],
        anon_names: list[str],
        user_local: npt.NDArray[np.int32],
        anon_local: npt.NDArray[np.int32],
        link_user: npt.NDArray[np.int32],
        link_anon: npt.NDArray[np.int32],
    ) -> npt.NDArray[np.int32]:
        """Each event's visitor (users >= 0, anonymous -(number + 1)) from the ids of its rows
        (an `EventBlock`'s form), numbering new ids on; the rows' links are kept in those numbers
        (their times are the caller's to keep)."""
        users = self._users.number(user_names)
        anons = self._anons.number(anon_names)
        self._link_anon.frombytes(anons[link_anon].tobytes())
        self._link_user.frombytes(users[link_user].tobytes())
        return np.where(
            user_local >= 0,
            users[np.maximum(user_local, 0)] if users.size else 0,
            -(anons[np.maximum(anon_local, 0)] + 1) if anons.size else 0,
        ).astype(np.int32)

    def _session_numbers(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int32]:
        """Each event's session number from its session's key (-1: none), as `add_block` numbers them."""
        numbers = np.full(keys.size, -1, dtype=np.int32)
        named = keys != -1
        numbers[named] = self._sessions.number(keys[named].view(np.uint64))
        return numbers

    @staticmethod
    def _along(
        column: Column | SmallNumbers | Times, keep: npt.NDArray[np.bool_]
    ) -> Iterator[tuple[npt.NDArray[Any], npt.NDArray[np.bool_]]]:
        """Each segment of ``column`` with its (writable) slice of ``keep``."""
        start = 0
        for segment in column.segments():
            yield segment, keep[start : start + segment.size]
            start += segment.size

    def _used(
        self, column: Column | SmallNumbers, keep: npt.NDArray[np.bool_], size: int
    ) -> npt.NDArray[np.intp]:
        """The distinct values (each in ``[0, size)``) of ``column`` where kept, ascending:
        `np.unique` without sorting the events."""
        used = np.zeros(size, dtype=np.bool_)
        for values, kept in self._along(column, keep):
            used[values[kept]] = True
        return np.flatnonzero(used)

    def _exclude_linked_anonymous(
        self, keep: npt.NDArray[np.bool_], excluded: Callable[[str, bool], bool]
    ) -> tuple[int, int]:
        """Drops from ``keep`` the anonymous events (no user id) of linked anonymous ids that are
        themselves excluded; returns how many such events were kept, and how many such ids there
        are.

        A login merges an anonymous id's history into the user's, so the merged visitor is the
        user; but the holder of the anonymous id may have opted out or erased it (a signed
        anonymous id's rights): its own anonymous events stay out whatever the user chose. The
        user's signed-in events are the user's and follow the user's choice alone.
        """
        linked = self._linked_anonymous()
        if not linked.size:
            return 0, 0
        anon_names = self._anons.names()
        out = np.zeros(len(anon_names), dtype=np.bool_)
        for index in linked.tolist():
            out[index] = excluded(anon_names[index], False)
        if not out.any():
            return 0, 0
        events = 0
        for visitor, kept in self._along(self._visitor, keep):
            own = np.zeros(visitor.size, dtype=np.bool_)
            anonymous = visitor < 0
            own[anonymous] = out[-visitor[anonymous] - 1]
            own &= kept
            events += int(np.count_nonzero(own))
            kept &= ~own
        return events, int(out.sum())

    def _linked_anonymous(self) -> npt.NDArray[np.int32]:
        return np.unique(np.frombuffer(self._link_anon, dtype=np.int32))

    def _still_open(self) -> None:
        if self._spent:
            raise RuntimeError("this InteractionBuilder has built its interactions already")

    def _spend(self) -> None:
        """A builder builds once: `build` releases the columns it reads."""
        self._still_open()
        self._spent = True

    def _merge_visitors(self) -> None:
        """Visitor of each event in one index space, in place: users first, then anonymous
        visitors; a linked anonymous visitor becomes the user of its latest login."""
        if not len(self._anons):
            return
        n_users = len(self._users)
        target = np.arange(len(self._anons), dtype=np.int32) + np.int32(n_users)
        anon = np.frombuffer(self._link_anon, dtype=np.int32)
        if anon.size:
            # Sorted by time, the last assignment per anonymous id (the latest login) wins.
            order = np.argsort(np.frombuffer(self._link_time, dtype=np.float64), kind="stable")
            target[anon[order]] = np.frombuffer(self._link_user, dtype=np.int32)[order]
        for visitor in self._visitor.segments():
            anonymous = visitor < 0
            visitor[anonymous] = target[-visitor[anonymous] - 1]


_Output = TypeVar("_Output")

#: Events `InteractionBuilder.add` holds before moving them into its columns.
_RECORD_ROWS = 1 << 14


def _take(
    column: Column | SmallNumbers | Times,
    keep: npt.NDArray[np.bool_],
    dtype: type[np.generic],
    position: npt.NDArray[np.int32] | None = None,
) -> npt.NDArray[Any]:
    """The column's values where kept (through ``position`` when given), as one array of
    ``dtype``; each segment of the column is released once copied."""
    taken = np.empty(int(np.count_nonzero(keep)), dtype=dtype)
    start = done = 0
    segments: Iterator[npt.NDArray[Any]] = column.take_segments()
    for segment in segments:
        kept = keep[start : start + segment.size]
        start += segment.size
        into = taken[done : done + int(np.count_nonzero(kept))]
        done += into.size
        if position is None and segment.dtype == dtype:
            np.compress(kept, segment, out=into)
        elif position is None:
            into[:] = segment[kept]
        else:
            np.take(position, segment[kept], out=into)
        del segment
    return taken


def _released(output: _Output) -> _Output:
    """``output``, once malloc's free heap has gone back to the system."""
    release_free_heap()
    return output


def _positions(used: npt.NDArray[np.intp], size: int) -> npt.NDArray[np.int32]:
    """Each value's position among the ascending distinct values ``used`` (values in ``[0, size)``)."""
    position = np.full(size, -1, dtype=np.int32)
    position[used] = np.arange(used.size, dtype=np.int32)
    return position


def count_or_one(value: Any) -> float:
    """A count a record gives (units, sample rate): a positive number, else 1."""
    return float(value) if isinstance(value, int | float) and value > 0 else 1.0


def _indices(index: dict[str, int], names: list[str]) -> npt.NDArray[np.int32]:
    """The index of each name, new names numbered on in order (as `dict.setdefault` would)."""
    return np.array([index.setdefault(name, len(index)) for name in names], dtype=np.int32)


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
