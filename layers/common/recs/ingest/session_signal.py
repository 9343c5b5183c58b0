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
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from recs.contracts.events import EventType, LakeRecord
from recs.errors import StoreUnavailableError
from recs.ports import Cache, VersionedRows
from recs.store_layout import (
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
    ) -> None:
        self._rows = rows
        self._cache = cache
        self._max_items = max_items
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_rounds = max_rounds

    def record(self, events: Sequence[LakeRecord]) -> SignalOutcome:
        """Fold the events' products into their visitors' rows; never raises a store fault."""
        try:
            return self._record(events)
        except StoreUnavailableError:
            return SignalOutcome(SignalStatus.FAILED)

    def _record(self, events: Sequence[LakeRecord]) -> SignalOutcome:
        now = self._clock()
        oldest = now - timedelta(seconds=self._ttl)
        relevant = [
            e
            for e in events
            if e["eventType"] in SIGNAL_EVENTS and "productId" in e and e["timestamp"] >= oldest
        ]
        if not relevant:
            return SignalOutcome(SignalStatus.NOTHING_TO_DO)
        entries, current, skipped = self._entries_by_visitor(relevant)
        if not entries:
            return SignalOutcome(SignalStatus.NOTHING_TO_DO, opted_out_events=skipped)
        written, pending, conflicts = self._merge_and_write(
            entries, current, oldest=oldest, expires=int(now.timestamp()) + self._ttl
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

    def _entries_by_visitor(
        self, events: Sequence[LakeRecord]
    ) -> tuple[dict[str, list[Recent]], dict[str, dict[str, Any] | None], int]:
        """New entries per visitor (opted-out users' events left out), the visitors' current rows,
        and how many events were left out; preferences and rows are read in one round trip."""
        users = list(dict.fromkeys(e["userId"] for e in events if "userId" in e))
        visitors = list(dict.fromkeys(v for e in events for v in _visitors_of(e)))
        keys = [preference_key(u) for u in users] + [session_key(v) for v in visitors]
        found = self._rows.get_many(keys)
        opted_out = {
            u
            for u, pref in zip(users, found[: len(users)], strict=True)
            if pref and pref.get("recommendations") is False
        }
        current = dict(zip(visitors, found[len(users) :], strict=True))
        entries: dict[str, list[Recent]] = defaultdict(list)
        skipped = 0
        for event in events:
            if event.get("userId") in opted_out:
                skipped += 1
                continue
            entry = (event["productId"], event["eventType"].value, iso(event["timestamp"]))
            for visitor in _visitors_of(event):
                entries[visitor].append(entry)
        return entries, current, skipped

    def _merge_and_write(
        self,
        entries: Mapping[str, list[Recent]],
        current: dict[str, dict[str, Any] | None],
        *,
        oldest: datetime,
        expires: int,
    ) -> tuple[list[str], list[str], int]:
        """Write each visitor's merged row if its version is unchanged; on a lost race read the
        row again and redo the merge, for at most `max_rounds` rounds.

        Returns the visitors written, those still pending, and the number of lost races.
        """
        pending = list(entries)
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
                merged = merge_recent(existing, entries[visitor], max_items=self._max_items, oldest=oldest)
                if row is not None and merged == existing:
                    continue  # nothing new (e.g. a re-sent request): no write
                version = int(row.get(SESSION_VERSION_ATTRIBUTE, 0)) if row else 0
                rows.append(session_row(visitor, merged, version + 1, expires))
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
