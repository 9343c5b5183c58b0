"""The live session signal: each visitor's most recent products, for in-session personalization.

One row per visitor (user or anonymous pseudonym) in the state table holds up to `max_items`
recent products, newest first, and expires `ttl_seconds` after its last update.

Two requests about the same visitor can run at once (two tabs, a beacon racing a batch). Each
row carries a write counter; a write succeeds only if the counter is still the one read
(optimistic concurrency), otherwise the row is read again and the merge redone. The merge keeps
each product's latest interaction and orders by time, so it is commutative and idempotent: the
order in which requests land, or a re-sent request, changes nothing.

Events of users who opted out of recommendations do not feed it (neither their user row nor the
anonymous row of the same event). The signal is a convenience: a store fault is reported to the
caller, never raised, and never affects the events already delivered to the lake.

The same row keeps the per-visitor rate cap (``VISITOR_EVENTS_PER_HOUR``, `cap`): the clock hour
(``hr``) and how many events ingest accepted for the visitor in it (``n``). With the cap on, ingest
reads the rows before delivering (`admit`, the one BatchGetItem the signal needed anyway, now for
every visitor of the batch, searches included), leaves out each event
that would take one of its visitors past the cap, delivers the rest, then writes the rows with the
new count in the same conditional write as the products (`write`): no extra DynamoDB call. A lost
race re-reads the row and adds this request's count to the winner's, so the count stays exact;
requests racing on a stale read can each admit up to what was left, so a visitor can exceed the
cap by what its concurrent requests admitted (never more once any of them is written). A store
fault admits every event (fail open): the lake is the record of truth, and a state-table outage
must not drop real shoppers' events.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from recs.contracts.events import EventType, LakeRecord
from recs.errors import StoreUnavailableError
from recs.ports import Cache, VersionedRows
from recs.store_layout import (
    SESSION_COUNT_ATTRIBUTE,
    SESSION_HOUR_ATTRIBUTE,
    SESSION_VERSION_ATTRIBUTE,
    decode_session_items,
    iso,
    preference_key,
    session_cache_key,
    session_key,
    session_row,
)

#: Interactions with a product; a search names no product of its own.
SIGNAL_EVENTS = frozenset(
    {
        EventType.VIEW,
        EventType.CLICK,
        EventType.ADD_TO_CART,
        EventType.PURCHASE,
        EventType.SEARCH_RESULT_CLICK,
    }
)

Recent = tuple[str, str, str]  # (productId, eventType, ISO timestamp)


class SignalStatus(StrEnum):
    UPDATED = "updated"  # every visitor's row is up to date
    NOTHING_TO_DO = "nothing-to-do"  # no event carried a product of a visitor who did not opt out
    PARTIAL = "partial"  # some rows kept losing the race to concurrent writers
    FAILED = "failed"  # the state table failed; the lake has the events regardless


@dataclass(frozen=True)
class Admission:
    """What `SessionSignal.admit` read and decided before the lake delivery, for `SessionSignal.write`."""

    #: The events within their visitors' hourly cap (all of them with the cap off or on a fault).
    admitted: list[LakeRecord]
    now: datetime
    #: Events left out because one of their visitors reached the cap this hour.
    over_cap: int = 0
    #: The rows read (visitor -> row or None), and the visitors among them who opted out; None: not
    #: read yet (the cap is off: `write` reads after delivery).
    rows: Mapping[str, dict[str, Any] | None] | None = None
    opted_out: frozenset[str] = frozenset()
    #: Admitted events per visitor, added to the row's count of `hour` (empty with the cap off).
    added: Mapping[str, int] = field(default_factory=dict)
    hour: int = 0
    #: The read failed: every event was admitted, and nothing is written.
    failed: bool = False


@dataclass(frozen=True)
class SignalOutcome:
    status: SignalStatus
    visitors_written: int = 0
    opted_out_events: int = 0
    conflicts: int = 0


def merge_recent(
    existing: Sequence[Recent], new: Sequence[Recent], *, max_items: int, oldest: datetime
) -> list[Recent]:
    """The latest interaction per product, newest first, at most `max_items`, none before `oldest`;
    a product's latest purchase is kept as an entry of its own, so a later view or click of the
    same product never hides that it was bought (serving filters purchased products).

    Commutative and idempotent in its inputs: each entry is the latest of its key (product, and
    whether it is a purchase), ties broken by event type and product id, and the kept entries are
    the top `max_items` of those keys; so concurrent or repeated updates converge to the same row.
    """
    latest: dict[tuple[str, bool], tuple[datetime, str]] = {}
    for product, event_type, timestamp in (*existing, *new):
        try:
            when = datetime.fromisoformat(timestamp)
        except ValueError:
            continue  # an unreadable entry is dropped rather than failing the merge
        if when.tzinfo is None or when < oldest:
            continue
        key = (product, event_type == "purchase")
        current = latest.get(key)
        if current is None or (when, event_type) > current:
            latest[key] = (when, event_type)
    ordered = sorted(latest.items(), key=lambda kv: (kv[1][0], kv[1][1], kv[0][0]), reverse=True)
    return [(product, event_type, iso(when)) for (product, _), (when, event_type) in ordered[:max_items]]


class SessionSignal:
    def __init__(
        self,
        rows: VersionedRows,
        cache: Cache,
        *,
        max_items: int,
        ttl_seconds: int,
        clock: Callable[[], datetime],
        max_rounds: int = 3,
        cap: int = 0,
    ) -> None:
        self._rows = rows
        self._cache = cache
        self._max_items = max_items
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_rounds = max_rounds
        self._cap = cap

    def record(self, events: Sequence[LakeRecord]) -> SignalOutcome:
        """Fold the events' products into their visitors' rows; never raises a store fault."""
        return self.write(self.admit(events))

    def admit(self, events: Sequence[LakeRecord]) -> Admission:
        """Keep the events within each visitor's cap for this clock hour, in order; an event
        carrying both ids needs room in both rows. With the cap on this reads the batch's
        visitors' rows and preferences (the one round trip `write` then reuses); with it off
        nothing is read yet (`write` reads, after delivery, as before the cap existed). Never
        raises: on a store fault every event is admitted (fail open)."""
        now = self._clock()
        if not self._cap:
            return Admission(list(events), now)
        counted = list(dict.fromkeys(v for e in events for v in _visitors_of(e)))
        try:
            rows, opted_out = self._read(self._relevant(events, now), counted)
        except StoreUnavailableError:
            return Admission(list(events), now, failed=True)
        hour = int(now.timestamp()) // 3600
        used = {v: hour_count(rows[v], hour) for v in counted}
        added: dict[str, int] = defaultdict(int)
        admitted: list[LakeRecord] = []
        for event in events:
            own = _visitors_of(event)
            if any(used[v] >= self._cap for v in own):
                continue
            for visitor in own:
                used[visitor] += 1
                added[visitor] += 1
            admitted.append(event)
        return Admission(
            admitted,
            now,
            over_cap=len(events) - len(admitted),
            rows=rows,
            opted_out=opted_out,
            added=dict(added),
            hour=hour,
        )

    def _read(
        self, relevant: Sequence[LakeRecord], counted: Sequence[str]
    ) -> tuple[dict[str, dict[str, Any] | None], frozenset[str]]:
        """The rows of the visitors of `relevant` and of `counted`, and the visitors of `relevant`
        who opted out (users, and anonymous ids whose holder opted out with the signed id);
        preferences and rows in one round trip."""
        users = list(dict.fromkeys(v for e in relevant for v in _visitors_of(e)))
        visitors = list(dict.fromkeys([*(v for e in relevant for v in _visitors_of(e)), *counted]))
        if not visitors:
            return {}, frozenset()
        keys = [preference_key(u) for u in users] + [session_key(v) for v in visitors]
        found = self._rows.get_many(keys)
        opted_out = frozenset(
            u
            for u, pref in zip(users, found[: len(users)], strict=True)
            if pref and pref.get("recommendations") is False
        )
        return dict(zip(visitors, found[len(users) :], strict=True)), opted_out

    def write(self, admission: Admission) -> SignalOutcome:
        """Fold the admitted events' products, and with the cap on their counts, into their
        visitors' rows; never raises a store fault."""
        if admission.failed:
            return SignalOutcome(SignalStatus.FAILED)
        try:
            return self._write(admission)
        except StoreUnavailableError:
            return SignalOutcome(SignalStatus.FAILED)

    def _relevant(self, events: Sequence[LakeRecord], now: datetime) -> list[LakeRecord]:
        oldest = now - timedelta(seconds=self._ttl)
        return [
            e
            for e in events
            if e["eventType"] in SIGNAL_EVENTS and "productId" in e and e["timestamp"] >= oldest
        ]

    def _write(self, admission: Admission) -> SignalOutcome:
        now = admission.now
        relevant = self._relevant(admission.admitted, now)
        if admission.rows is None:  # the cap is off: read now, after delivery
            if not relevant:
                return SignalOutcome(SignalStatus.NOTHING_TO_DO)
            rows, opted_out = self._read(relevant, [])
            admission = replace(admission, rows=rows, opted_out=opted_out)
        entries: dict[str, list[Recent]] = defaultdict(list)
        skipped = 0
        for event in relevant:
            if any(visitor in admission.opted_out for visitor in _visitors_of(event)):
                skipped += 1
                continue
            entry = (event["productId"], event["eventType"].value, iso(event["timestamp"]))
            for visitor in _visitors_of(event):
                entries[visitor].append(entry)
        if not entries and not admission.added:
            return SignalOutcome(SignalStatus.NOTHING_TO_DO, opted_out_events=skipped)
        written, pending, conflicts = self._merge_and_write(
            entries,
            admission,
            oldest=now - timedelta(seconds=self._ttl),
            expires=int(now.timestamp()) + self._ttl,
        )
        if written:
            # Serving caches rows for a short while; drop its copies so the update shows at once.
            self._cache.delete([session_cache_key(v) for v in written])
        return SignalOutcome(
            SignalStatus.PARTIAL if pending else SignalStatus.UPDATED,
            visitors_written=len(written),
            opted_out_events=skipped,
            conflicts=conflicts,
        )

    def _merge_and_write(
        self,
        entries: Mapping[str, list[Recent]],
        admission: Admission,
        *,
        oldest: datetime,
        expires: int,
    ) -> tuple[list[str], list[str], int]:
        """Write each visitor's merged row (and count) if its version is unchanged; on a lost race
        read the row again and redo the merge, for at most `max_rounds` rounds.

        Returns the visitors written, those still pending, and the number of lost races.
        """
        pending = list(dict.fromkeys([*entries, *admission.added]))
        current = dict(admission.rows or {})
        written: list[str] = []
        conflicts = 0
        for round_ in range(self._max_rounds):
            if round_:
                current = dict(
                    zip(pending, self._rows.get_many([session_key(v) for v in pending]), strict=True)
                )
            rows: list[dict[str, Any]] = []
            expected: list[int] = []
            row_visitors: list[str] = []
            for visitor in pending:
                row = current.get(visitor)
                existing = _decode(row)
                merged = merge_recent(
                    existing, entries.get(visitor, []), max_items=self._max_items, oldest=oldest
                )
                added = admission.added.get(visitor, 0)
                if row is not None and merged == existing and not added:
                    continue  # nothing new (e.g. a re-sent request with the cap off): no write
                counted = (admission.hour, hour_count(row, admission.hour) + added) if self._cap else None
                version = int(row.get(SESSION_VERSION_ATTRIBUTE, 0)) if row else 0
                rows.append(session_row(visitor, merged, version + 1, expires, counted))
                expected.append(version)
                row_visitors.append(visitor)
            if not rows:
                return written, [], conflicts
            outcomes = self._rows.put_many_if_version(rows, SESSION_VERSION_ATTRIBUTE, expected)
            written += [v for v, ok in zip(row_visitors, outcomes, strict=True) if ok]
            pending = [v for v, ok in zip(row_visitors, outcomes, strict=True) if not ok]
            conflicts += len(pending)
            if not pending:
                break
        return written, pending, conflicts


def hour_count(row: Mapping[str, Any] | None, hour: int) -> int:
    """Events the row counts for the visitor in clock hour `hour` (0 for another hour or none)."""
    if not row:
        return 0
    try:
        if int(row.get(SESSION_HOUR_ATTRIBUTE, -1)) != hour:
            return 0
        return max(int(row.get(SESSION_COUNT_ATTRIBUTE, 0)), 0)
    except (TypeError, ValueError):
        return 0  # a damaged count starts over


def _visitors_of(event: LakeRecord) -> list[str]:
    visitors = []
    if "userId" in event:
        visitors.append(event["userId"])
    if "anonId" in event:
        visitors.append(event["anonId"])
    return visitors


def _decode(row: Mapping[str, Any] | None) -> list[Recent]:
    if not row:
        return []
    try:
        return decode_session_items(row["d"])
    except (KeyError, TypeError, ValueError, json.JSONDecodeError):
        return []  # a damaged row is rewritten from this request's events
