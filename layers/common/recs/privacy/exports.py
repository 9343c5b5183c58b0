"""Data exports: a shopper's copy of what the product holds about them, and its receipt.

``POST /api/users/{userId}/export`` opens a receipt and starts the export asynchronously (the
lake scan has no bound a request could wait for); the export job (`recs.privacy.export_job`)
writes one JSON object to the export bucket and marks the receipt ready. ``GET
/api/exports/{receiptId}`` answers the receipt's state and, once ready, a short-lived download
URL. The object expires `retention_days` after the request (S3 lifecycle, template parameter
``ExportRetentionDays``); from then on the receipt answers 410 Gone, until its row's own TTL
removes it (404).

An anonymous visitor exports the same way with their signed anonymous id (``POST
/api/visitor/export``, ``GET /api/visitor/exports/{receiptId}``; the route checks the signature):
the receipt's owner is then the anonymous pseudonym (``a_...``), so a user's receipt never
answers an anonymous holder and the reverse (the two kinds of pseudonym never compare equal).

A receipt names its owner by pseudonym (the export job needs it to find the data), so it is
personal data itself: erasure deletes a user's or an anonymous visitor's receipts and export
objects (`ExportErasure`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from recs.errors import NotFoundError, StoreUnavailableError
from recs.ports import ExportLauncher, ExportObjects, KeyValueTable
from recs.privacy.receipts import new_receipt_id
from recs.pseudonyms import ANON_PREFIX, Pseudonyms
from recs.store_layout import (
    USER_EXPORT_SK_PREFIX,
    export_key,
    export_object_key,
    iso,
    preference_key,
    user_export_key,
    user_export_prefix,
)

#: How long a receipt row outlives its object (DynamoDB TTL): meanwhile the receipt answers 410.
RECEIPT_KEPT_AFTER_EXPIRY = timedelta(days=30)


class ExportStatus(StrEnum):
    PENDING = "pending"  # the export job has not finished
    READY = "ready"  # the object is there; GET hands out a download URL
    FAILED = "failed"  # the job failed (or never finished): request a new export
    EXPIRED = "expired"  # the object's lifetime is over (410 Gone)


@dataclass(frozen=True)
class ExportTimings:
    """How long things last: the object, a download URL, and a job before it counts as failed."""

    retention_days: int = 7
    url_seconds: int = 300
    #: A pending receipt older than this is reported failed: the job (at most 15 minutes in Lambda,
    #: retried by Lambda's asynchronous invocation) cannot still be running.
    stale_after_seconds: int = 3600


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


@dataclass
class ExportReceipt:
    """One export request.

    Attributes
    ----------
    owner
        The user's or the anonymous visitor's pseudonym (never the raw id): what the job
        exports and whose receipt it is.
    expires_at
        When the object's lifetime ends (``requested_at`` + retention), ISO 8601.
    """

    receipt_id: str
    owner: str
    requested_at: str
    expires_at: str
    status: ExportStatus = ExportStatus.PENDING
    completed_at: str | None = None
    object_key: str | None = None
    failure: str | None = None

    def row(self) -> dict[str, Any]:
        pk, sk = export_key(self.receipt_id)
        row: dict[str, Any] = {
            "pk": pk,
            "sk": sk,
            "receiptId": self.receipt_id,
            "owner": self.owner,
            "status": self.status.value,
            "requestedAt": self.requested_at,
            "objectExpiresAt": self.expires_at,
            # The state table's TTL attribute (epoch seconds): the row goes a while after the object.
            "expiresAt": int((_parse(self.expires_at) + RECEIPT_KEPT_AFTER_EXPIRY).timestamp()),
        }
        for name, value in (
            ("completedAt", self.completed_at),
            ("objectKey", self.object_key),
            ("failure", self.failure),
        ):
            if value:
                row[name] = value
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ExportReceipt:
        return cls(
            receipt_id=str(row["receiptId"]),
            owner=str(row["owner"]),
            requested_at=str(row["requestedAt"]),
            expires_at=str(row["objectExpiresAt"]),
            status=ExportStatus(str(row.get("status", ExportStatus.PENDING.value))),
            completed_at=str(row["completedAt"]) if row.get("completedAt") else None,
            object_key=str(row["objectKey"]) if row.get("objectKey") else None,
            failure=str(row["failure"]) if row.get("failure") else None,
        )

    @property
    def anonymous(self) -> bool:
        """Requested with a signed anonymous id: only that id's holder may fetch it."""
        return self.owner.startswith(ANON_PREFIX)

    def status_at(self, now: datetime, timings: ExportTimings) -> ExportStatus:
        """The status a caller sees at `now`: an expired object and a job that cannot still be
        running are told as such, whatever the row says."""
        if now >= _parse(self.expires_at):
            return ExportStatus.EXPIRED
        if self.status is ExportStatus.PENDING and now - _parse(self.requested_at) > timedelta(
            seconds=timings.stale_after_seconds
        ):
            return ExportStatus.FAILED
        return self.status

    def public(self, status: ExportStatus) -> dict[str, Any]:
        """What the caller sees: no owner, no object key."""
        body: dict[str, Any] = {
            "receiptId": self.receipt_id,
            "status": status.value,
            "requestedAt": self.requested_at,
            "expiresAt": self.expires_at,
        }
        if self.completed_at:
            body["completedAt"] = self.completed_at
        return body


class ExportBook:
    """Export receipts in the state table, each also listed under its owner."""

    def __init__(self, table: KeyValueTable) -> None:
        self._table = table

    def get(self, receipt_id: str) -> ExportReceipt | None:
        row = self._table.get(*export_key(receipt_id))
        return ExportReceipt.from_row(row) if row else None

    def open(self, receipt: ExportReceipt) -> None:
        pk, sk = user_export_key(receipt.owner, receipt.receipt_id)
        # The index row first: an erasure that finds it deletes the receipt, even one half written.
        self._table.put({"pk": pk, "sk": sk, "expiresAt": receipt.row()["expiresAt"]})
        self._table.put(receipt.row())

    def save(self, receipt: ExportReceipt) -> None:
        self._table.put(receipt.row())

    def of_user(self, user: str) -> list[ExportReceipt]:
        ids = [
            str(row["sk"]).removeprefix(USER_EXPORT_SK_PREFIX)
            for row in self._table.query(preference_key(user)[0], USER_EXPORT_SK_PREFIX)
        ]
        rows = self._table.get_many([export_key(receipt_id) for receipt_id in ids]) if ids else []
        return [ExportReceipt.from_row(row) for row in rows if row is not None]

    def forget_user(self, user: str) -> int:
        """Delete every export receipt of a user and its index row; returns rows deleted."""
        index = [
            (str(row["pk"]), str(row["sk"]))
            for row in self._table.query(preference_key(user)[0], USER_EXPORT_SK_PREFIX)
        ]
        receipts = [export_key(sk.removeprefix(USER_EXPORT_SK_PREFIX)) for _, sk in index]
        found = [key for key, row in zip(receipts, self._table.get_many(receipts), strict=True) if row]
        return self._table.delete_many([*found, *index]) if index else 0


@dataclass
class ExportsErased:
    objects: int = 0
    rows: int = 0


class ExportErasure:
    """A user's exports (objects and receipts): part of everything erasure removes."""

    def __init__(self, book: ExportBook, objects: ExportObjects) -> None:
        self._book = book
        self._objects = objects

    def erase(self, user: str) -> ExportsErased:
        """The exports of a pseudonym (a user's or an anonymous visitor's)."""
        keys = sorted(self._objects.list_keys(user_export_prefix(user)))
        objects = self._objects.delete(keys) if keys else 0
        return ExportsErased(objects=objects, rows=self._book.forget_user(user))


@dataclass(frozen=True)
class Download:
    """The answer to ``GET /api/exports/{receiptId}``: its HTTP status and body."""

    status_code: int
    body: dict[str, Any]


class ExportService:
    """The export routes: request an export, and fetch it."""

    def __init__(
        self,
        book: ExportBook,
        objects: ExportObjects,
        launcher: ExportLauncher,
        pseudonyms: Pseudonyms,
        clock: Callable[[], datetime],
        timings: ExportTimings,
    ) -> None:
        self._book = book
        self._objects = objects
        self._launcher = launcher
        self._pseudonyms = pseudonyms
        self._clock = clock
        self.timings = timings

    def request(self, user_id: str) -> dict[str, Any]:
        """Open a receipt and start the export; a pending export of the same user is returned
        instead of a second one (a client may retry a failed request).

        Raises
        ------
        StoreUnavailableError
            The receipt could not be stored or the job not started (503; the receipt, if any,
            is marked failed, so a retry opens a new one).
        """
        return self._request(self._pseudonyms.user(user_id))

    def request_anonymous(self, anon_id: str) -> dict[str, Any]:
        """`request` for an anonymous id (its holder proved it with the signature): the export of
        what is stored under the anonymous pseudonym.

        Raises as `request`.
        """
        return self._request(self._pseudonyms.anon(anon_id))

    def _request(self, user: str) -> dict[str, Any]:
        now = self._clock()
        for existing in self._book.of_user(user):
            if existing.status_at(now, self.timings) is ExportStatus.PENDING:
                return existing.public(ExportStatus.PENDING)
        requested = iso(now)
        expires = iso(now + timedelta(days=self.timings.retention_days))
        receipt = ExportReceipt(new_receipt_id(), user, requested, expires)
        self._book.open(receipt)
        try:
            self._launcher.launch(receipt.receipt_id)
        except StoreUnavailableError:
            receipt.status, receipt.failure = ExportStatus.FAILED, "not-started"
            self._book.save(receipt)
            raise
        return receipt.public(receipt.status)

    def receipt(self, receipt_id: str) -> ExportReceipt:
        receipt = self._book.get(receipt_id)
        if receipt is None:
            raise NotFoundError("no such export receipt")
        return receipt

    def user_receipt(self, receipt_id: str) -> ExportReceipt:
        """A receipt for the user route: an anonymous visitor's is not found there, with or
        without caller authorization (only the signed id's holder fetches it, on their route)."""
        receipt = self.receipt(receipt_id)
        if receipt.anonymous:
            raise NotFoundError("no such export receipt")
        return receipt

    def is_owner(self, receipt: ExportReceipt, user_id: str) -> bool:
        return hmac.compare_digest(self._pseudonyms.user(user_id), receipt.owner)

    def is_anonymous_owner(self, receipt: ExportReceipt, anon_id: str) -> bool:
        """True when the receipt is this anonymous id's (never for a user's receipt: ``a_`` and
        ``u_`` pseudonyms differ)."""
        return hmac.compare_digest(self._pseudonyms.anon(anon_id), receipt.owner)

    def download(self, receipt: ExportReceipt) -> Download:
        """200 with the status (and, when ready, a download URL valid `url_seconds`); 410 Gone
        once the object's lifetime is over or the object is gone."""
        now = self._clock()
        status = receipt.status_at(now, self.timings)
        key = receipt.object_key
        if status is ExportStatus.READY and key and not self._objects.exists(key):
            status = ExportStatus.EXPIRED  # deleted early (lifecycle rounding, an operator)
        body = receipt.public(status)
        if status is ExportStatus.EXPIRED:
            return Download(410, body)
        if status is ExportStatus.READY and key:
            seconds = self.timings.url_seconds
            body["url"] = self._objects.download_url(key, seconds)
            body["urlExpiresAt"] = iso(now + timedelta(seconds=seconds))
        return Download(200, body)


def object_key_of(receipt: ExportReceipt) -> str:
    return export_object_key(receipt.owner, receipt.receipt_id)
