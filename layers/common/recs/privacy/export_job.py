"""The export job: everything stored about one user, as one JSON document in the export bucket.

The document holds, for the receipt's owner (known by pseudonym):

- ``preferences``: the recommendations preference (opt-out) and when it was set;
- ``session``: the live session signal (recent products), when there is one;
- ``lists``: the current model version's personal list with each item's score and reason, and
  the purchases the version holds for them (a delta version's missing rows are its base's, as
  serving reads them);
- ``events``: every lake record under their user pseudonym or an anonymous id linked to it (an
  event carrying both ids links them), with its fields as stored. An anonymous id also seen
  with another user (a shared browser) is named, but its anonymous events are left out: they
  may be the other person's.

An anonymous visitor's export (a receipt owned by an anonymous pseudonym, requested with the
signed id) holds the same sections under that pseudonym, with the rule of the anonymous erasure:
only the id's **own anonymous events** (without a ``userId``). Events made on that browser while
signed in (carrying both ids) are the user's, exported with the user's export, never here, and
no user is named; so are the entries they fed into the id's session signal (ingest feeds the
anonymous row of every event carrying the id), left out by matching them with those lake records
(an event still in Firehose's buffer is not in the lake yet: see docs/privacy.md, Limits).
An anonymous visitor has no personal list (serving personalizes them from the session
signal); ``lists`` says so, and still lists any row a training run stored under the pseudonym,
since it is stored about them.

The lake is read by the erasure purge's reader (`recs.privacy.lake_purge`), in two passes for
the same reason: the linked anonymous ids are only known from the lake itself.

Erasure may run meanwhile. It writes its tombstone before it deletes a user's exports, so the
job checks for the tombstone after writing: if it is there, the job deletes what it wrote (the
purge's erasure of the live stores deletes any export left behind too).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recs.errors import StoreUnavailableError
from recs.ports import ExportObjects, KeyValueTable, ObjectStore
from recs.privacy.exports import ExportBook, ExportReceipt, ExportStatus, object_key_of
from recs.privacy.lake_purge import PREFETCH, LakePurge
from recs.privacy.visitors import ErasedVisitors
from recs.pseudonyms import Pseudonyms
from recs.serving.repository import Pointer
from recs.store_layout import (
    POINTER_KEY,
    decode_items,
    decode_session_items,
    iso,
    preference_key,
    purchased_pk,
    session_key,
    tombstone_key,
    user_pk,
    version_sk,
)

_log = logging.getLogger(__name__)

#: The document's format (a reader checks it before reading the rest).
EXPORT_FORMAT = "recs-export/1"


@dataclass
class LakeEvents:
    """What the lake holds of one user."""

    records: list[dict[str, Any]] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    #: Linked anonymous ids also seen with another user: their anonymous events are left out.
    shared: list[str] = field(default_factory=list)


def events_of(user: str, anonymous: Iterable[str], records: Iterable[dict[str, Any]]) -> LakeEvents:
    """The user's records from the lake records naming them or their linked anonymous ids."""
    linked = set(anonymous)
    own: list[dict[str, Any]] = []
    anonymous_only: list[dict[str, Any]] = []
    shared: set[str] = set()
    for record in records:
        record_user, record_anon = record.get("userId"), record.get("anonId")
        if record_user == user:
            own.append(record)
        elif record_anon in linked and record_user:
            shared.add(str(record_anon))  # the same browser, signed in as someone else
        elif record_anon in linked:
            anonymous_only.append(record)
    kept = own + [r for r in anonymous_only if r.get("anonId") not in shared]
    kept.sort(key=lambda r: (str(r.get("timestamp", "")), str(r.get("eventId", ""))))
    return LakeEvents(kept, sorted(linked), sorted(shared))


def user_lake_records(
    lake: ObjectStore, lake_prefix: str, user: str, pseudonyms: Pseudonyms, prefetch: int = PREFETCH
) -> tuple[list[str], Iterator[dict[str, Any]]]:
    """The lake read of one user's export: the anonymous ids linked to them (a pass over every
    object), and the records naming them or those ids (a second pass, as it is iterated)."""
    visitors = ErasedVisitors([pseudonyms.tombstone(user)], pseudonyms.tombstone)
    purge = LakePurge(lake, lake_prefix, visitors, prefetch=prefetch)
    keys = purge.keys()
    anonymous = sorted(purge.find_links(keys))
    for visitor in anonymous:
        visitors.add(pseudonyms.tombstone(visitor))
    return anonymous, purge.records(keys)


def anonymous_events_of(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """An anonymous visitor's own records: those without a user (a signed-in event on the same
    browser is that user's, as an anonymous erasure leaves it to them), oldest first."""
    own = [record for record in records if not record.get("userId")]
    own.sort(key=lambda r: (str(r.get("timestamp", "")), str(r.get("eventId", ""))))
    return own


def _moment(timestamp: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def without_signed_in(
    session: list[tuple[str, str, str]], records: Iterable[dict[str, Any]]
) -> list[tuple[str, str, str]]:
    """The anonymous id's session signal without the entries a signed-in event fed (ingest feeds
    the anonymous row of every event carrying the id, a login's too): those are the user's."""
    signed_in = {
        (str(r.get("productId")), str(r.get("eventType")), _moment(r.get("timestamp")))
        for r in records
        if r.get("userId")
    }
    return [(p, t, ts) for p, t, ts in session if (p, t, _moment(ts)) not in signed_in]


#: What an anonymous visitor's export says instead of a personal list, and about their events.
ANONYMOUS_LISTS_NOTE = (
    "An anonymous visitor has no personal list: recommendations for an anonymous id are "
    "personalized from its session signal only. Rows a training run stored under the id, if any, "
    "are listed here; serving does not read them."
)
ANONYMOUS_EVENTS_NOTE = (
    "Only this anonymous id's own events and session entries: what was done on this browser while "
    "signed in belongs to that account and is in its own export."
)


@dataclass
class ExportDeps:
    book: ExportBook
    state_table: KeyValueTable
    model_table: KeyValueTable
    lake: ObjectStore
    lake_prefix: str
    objects: ExportObjects
    pseudonyms: Pseudonyms
    clock: Callable[[], datetime]
    prefetch: int = PREFETCH


@dataclass(frozen=True)
class ExportOutcome:
    """Counts only (the job's logs and metrics carry no pseudonym)."""

    status: str
    events: int = 0
    linked_anonymous_ids: int = 0
    list_items: int = 0
    bytes_written: int = 0


class ExportJob:
    def __init__(self, deps: ExportDeps) -> None:
        self._deps = deps

    def run(self, receipt_id: str) -> ExportOutcome:
        """Export the receipt's owner; a receipt that is gone (erased) or no longer pending is
        left alone, so Lambda's retries of an asynchronous invocation do no harm.

        Raises
        ------
        StoreUnavailableError
            A store failed: the receipt stays pending and Lambda retries the invocation.
        """
        deps = self._deps
        receipt = deps.book.get(receipt_id)
        if receipt is None:
            return ExportOutcome("gone")
        if receipt.status is not ExportStatus.PENDING:
            return ExportOutcome(receipt.status.value)
        try:
            document, outcome = self.document(receipt)
        except StoreUnavailableError:
            raise
        except Exception:
            receipt.status, receipt.failure = ExportStatus.FAILED, "error"
            deps.book.save(receipt)
            raise
        data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        key = object_key_of(receipt)
        deps.objects.put(key, data, "application/json")
        receipt.status, receipt.completed_at, receipt.object_key = ExportStatus.READY, iso(deps.clock()), key
        deps.book.save(receipt)
        if self._erased(receipt.owner):
            # Erased while the job ran: what was just written goes too.
            deps.objects.delete([key])
            deps.book.forget_user(receipt.owner)
            return ExportOutcome("erased")
        return ExportOutcome(
            "ready", outcome.events, outcome.linked_anonymous_ids, outcome.list_items, len(data)
        )

    def document(self, receipt: ExportReceipt) -> tuple[dict[str, Any], ExportOutcome]:
        deps = self._deps
        owner = receipt.owner
        preference, session = deps.state_table.get_many([preference_key(owner), session_key(owner)])
        recent = decode_session_items(str(session["d"])) if session else []
        lists = self._lists(owner)
        document: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "receiptId": receipt.receipt_id,
            "requestedAt": receipt.requested_at,
            "generatedAt": iso(deps.clock()),
            "preferences": {
                "recommendations": not (preference and preference.get("recommendations") is False),
                "updatedAt": preference.get("updatedAt") if preference else None,
            },
            "lists": lists,
        }
        if receipt.anonymous:
            seen = self._anonymous_records(owner)
            recent = without_signed_in(recent, seen)
            records = anonymous_events_of(seen)
            document["subject"] = {"anonymousPseudonym": owner}
            document["events"] = records
            lists["note"] = ANONYMOUS_LISTS_NOTE
            document["notes"] = {"events": ANONYMOUS_EVENTS_NOTE}
            linked = 0
        else:
            events = self._events(owner)
            document["subject"] = {
                "userPseudonym": owner,
                "linkedAnonymousPseudonyms": events.linked,
                "sharedAnonymousPseudonyms": events.shared,
            }
            records, linked = events.records, len(events.linked)
            document["events"] = records
        document["session"] = [{"productId": p, "eventType": t, "timestamp": ts} for p, t, ts in recent]
        outcome = ExportOutcome(
            "ready", len(records), linked, len(lists["personal"]) + len(lists["purchased"])
        )
        return document, outcome

    def _lists(self, user: str) -> dict[str, Any]:
        """The current version's personal rows of the user, as serving would read them."""
        models = self._deps.model_table
        row = models.get(*POINTER_KEY)
        if row is None:
            return {"modelVersion": None, "personal": [], "purchased": []}
        pointer = Pointer.from_row(row)
        versions = [pointer.version] + ([pointer.personal_base] if pointer.personal_base else [])

        def current(pk: str) -> list[tuple[str, float, str | None]]:
            rows = models.get_many([(pk, version_sk(v)) for v in versions])
            found = next((r for r in rows if r is not None), None)
            return decode_items(str(found["d"])) if found else []

        personal = current(user_pk(user))
        return {
            "modelVersion": pointer.version,
            "personal": [{"productId": p, "score": score, "reason": reason} for p, score, reason in personal],
            "purchased": [{"productId": p, "count": count} for p, count, _ in current(purchased_pk(user))],
        }

    def _events(self, user: str) -> LakeEvents:
        deps = self._deps
        anonymous, records = user_lake_records(
            deps.lake, deps.lake_prefix, user, deps.pseudonyms, deps.prefetch
        )
        return events_of(user, anonymous, records)

    def _anonymous_records(self, visitor: str) -> list[dict[str, Any]]:
        """Every lake record carrying the anonymous id, signed in or not (one pass: an anonymous
        id links to nothing it could export; its signed-in records only tell what to leave out)."""
        deps = self._deps
        visitors = ErasedVisitors([deps.pseudonyms.tombstone(visitor)], deps.pseudonyms.tombstone)
        lake = LakePurge(deps.lake, deps.lake_prefix, visitors, prefetch=deps.prefetch)
        return list(lake.records(lake.keys()))

    def _erased(self, user: str) -> bool:
        tombstone = self._deps.pseudonyms.tombstone(user)
        return self._deps.state_table.get(*tombstone_key(tombstone)) is not None
