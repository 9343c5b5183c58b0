"""Erasure receipts: what the caller polls, and the audit record that outlives the erasure.

A receipt names its subject only by tombstone (`Pseudonymizer.tombstone` of the user's
pseudonym), never by the raw id or the pseudonym, so the audit trail itself cannot identify the
shopper; whoever holds the pseudonym key and the raw id can still prove which receipt is theirs.
Receipts carry no ``expiresAt``: they are the record that the erasure happened.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from recs.ports import KeyValueTable
from recs.store_layout import PENDING_ERASURES_PK, erasure_key, pending_erasure_key

#: Receipt ids: 128 random bits, hex. Unguessable, so a receipt id is also a read capability
#: when caller authorization is disabled.
RECEIPT_ID_PATTERN = r"^[0-9a-f]{32}$"


def new_receipt_id() -> str:
    return secrets.token_hex(16)


class ErasureStatus(StrEnum):
    PENDING = "pending"  # live stores cleared; the purge has not rewritten the lake and artifacts yet
    COMPLETED = "completed"  # nothing of the shopper is left in any store


@dataclass
class Removed:
    """What an erasure removed, by kind (summed over the request and the purge)."""

    model_rows: int = 0
    state_rows: int = 0
    cache_keys: int = 0
    lake_records: int = 0
    lake_objects: int = 0
    artifact_objects: int = 0
    linked_anonymous_ids: int = 0
    export_objects: int = 0

    _NAMES = (
        ("model_rows", "modelRows"),
        ("state_rows", "stateRows"),
        ("cache_keys", "cacheKeys"),
        ("lake_records", "lakeRecords"),
        ("lake_objects", "lakeObjects"),
        ("artifact_objects", "artifactObjects"),
        ("linked_anonymous_ids", "linkedAnonymousIds"),
        ("export_objects", "exportObjects"),
    )

    def add(self, other: Removed) -> Removed:
        for name, _ in self._NAMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def as_dict(self) -> dict[str, int]:
        return {wire: int(getattr(self, name)) for name, wire in self._NAMES}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Removed:
        data = data or {}
        return cls(**{name: int(data.get(wire, 0)) for name, wire in cls._NAMES})


@dataclass
class Receipt:
    """One erasure request.

    Attributes
    ----------
    receipt_id
        What the caller polls (``GET /api/erasures/{receiptId}``).
    subject
        Tombstone of the user's pseudonym.
    linked
        Tombstones of the anonymous ids erased with the user (given in the request or found
        in the lake by the purge).
    """

    receipt_id: str
    subject: str
    requested_at: str
    status: ErasureStatus = ErasureStatus.PENDING
    completed_at: str | None = None
    linked: list[str] = field(default_factory=list)
    removed: Removed = field(default_factory=Removed)

    def row(self) -> dict[str, Any]:
        pk, sk = erasure_key(self.receipt_id)
        row: dict[str, Any] = {
            "pk": pk,
            "sk": sk,
            "receiptId": self.receipt_id,
            "subject": self.subject,
            "status": self.status.value,
            "requestedAt": self.requested_at,
            "linked": sorted(set(self.linked)),
            "removed": self.removed.as_dict(),
        }
        if self.completed_at:
            row["completedAt"] = self.completed_at
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Receipt:
        return cls(
            receipt_id=str(row["receiptId"]),
            subject=str(row["subject"]),
            requested_at=str(row["requestedAt"]),
            status=ErasureStatus(str(row.get("status", ErasureStatus.PENDING.value))),
            completed_at=str(row["completedAt"]) if row.get("completedAt") else None,
            linked=[str(t) for t in row.get("linked") or []],
            removed=Removed.from_dict(row.get("removed")),
        )

    def public(self) -> dict[str, Any]:
        """What the caller sees: no subject, no tombstones."""
        body: dict[str, Any] = {
            "receiptId": self.receipt_id,
            "status": self.status.value,
            "requestedAt": self.requested_at,
            "removed": self.removed.as_dict(),
        }
        if self.completed_at:
            body["completedAt"] = self.completed_at
        return body

    @property
    def tombstones(self) -> set[str]:
        return {self.subject, *self.linked}


class ReceiptBook:
    """Receipts in the state table, with an index of the pending ones (one query lists them)."""

    def __init__(self, table: KeyValueTable) -> None:
        self._table = table

    def get(self, receipt_id: str) -> Receipt | None:
        row = self._table.get(*erasure_key(receipt_id))
        return Receipt.from_row(row) if row else None

    def open(self, receipt: Receipt) -> None:
        """Store a new receipt and list it as pending."""
        self._table.put(receipt.row())
        pk, sk = pending_erasure_key(receipt.receipt_id)
        self._table.put({"pk": pk, "sk": sk, "subject": receipt.subject, "requestedAt": receipt.requested_at})

    def save(self, receipt: Receipt) -> None:
        self._table.put(receipt.row())

    def pending(self) -> list[Receipt]:
        ids = [str(row["sk"]) for row in self._table.query(PENDING_ERASURES_PK)]
        rows = self._table.get_many([erasure_key(receipt_id) for receipt_id in ids])
        return [Receipt.from_row(row) for row in rows if row is not None]

    def pending_for(self, subject: str) -> Receipt | None:
        """The pending receipt of a subject (a repeated request returns it instead of a new one)."""
        for row in self._table.query(PENDING_ERASURES_PK):
            if row.get("subject") == subject:
                return self.get(str(row["sk"]))
        return None

    def complete(self, receipt: Receipt, completed_at: str) -> None:
        """Mark the receipt completed (the audit record stays) and drop it from the pending index."""
        receipt.status = ErasureStatus.COMPLETED
        receipt.completed_at = completed_at
        self._table.put(receipt.row())
        self._table.delete_many([pending_erasure_key(receipt.receipt_id)])
