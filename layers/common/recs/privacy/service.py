"""A shopper's privacy choices, honoured at once in every live store.

- **Preference** (opt-out / opt-in): the ``USER#<pseudonym>``/``PREF`` row, written through to
  the cache flag serving reads on every request; an opt-out also removes the user's stored and
  cached personal lists and their session signal.
- **Anonymous visitors** have the same two rights for their signed anonymous id
  (`recs.visitor_ids`; the route checks the signature): the same rows under the anonymous
  pseudonym. An anonymous erasure erases that id only: events it shares with a signed-in user
  (a login on that browser) stay theirs, without the anonymous id (`recs.privacy.lake_purge`).
- **Erasure**: a tombstone first (training never uses the shopper's events again, whatever
  happens next), a receipt, then everything keyed by the user's pseudonym (and by the anonymous
  ids the caller names) is removed from the model table, the state table and the cache. The
  purge step of the training workflow (`recs.privacy.purge`) rewrites the event lake and the
  model artifacts and completes the receipt.

A cache fault is not swallowed here: if the cache could not be updated, a stale copy could keep
serving personal results, so the request answers 503 (everything is idempotent; the client
retries) instead of claiming success.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from recs.errors import NotFoundError, ServiceUnavailableError
from recs.ports import KeyValueTable
from recs.privacy.erasure import CountingCache, LiveData
from recs.privacy.receipts import Receipt, ReceiptBook, new_receipt_id
from recs.pseudonyms import Pseudonyms
from recs.store_layout import iso, optout_cache_key, preference_key, tombstone_key

#: Lifetime of the opt-out flag privacy writes to the cache (serving refills it for less).
PREFERENCE_CACHE_TTL = 7 * 86_400


class CacheNotUpdatedError(ServiceUnavailableError):
    """The store holds the change but the cache may still serve the old state: retry."""


class PrivacyService:
    def __init__(
        self,
        live: LiveData,
        state_table: KeyValueTable,
        receipts: ReceiptBook,
        cache: CountingCache,
        pseudonyms: Pseudonyms,
        clock: Callable[[], datetime],
    ) -> None:
        self._live = live
        self._state = state_table
        self._receipts = receipts
        self._cache = cache
        self._pseudonyms = pseudonyms
        self._clock = clock

    # ------------------------------------------------------------------ preference
    def set_preference(self, user_id: str, recommendations: bool) -> dict[str, Any]:
        """Store the preference and make serving see it on the very next request.

        Raises
        ------
        StoreUnavailableError
            The preference could not be stored (503; nothing changed that matters).
        CacheNotUpdatedError
            Stored, but the cache flag or the cached lists could not be updated (503; retry).
        """
        return self._set_preference(self._pseudonyms.user(user_id), recommendations)

    def set_anonymous_preference(self, anon_id: str, recommendations: bool) -> dict[str, Any]:
        """`set_preference` for an anonymous id (its holder proved it with the signature)."""
        return self._set_preference(self._pseudonyms.anon(anon_id), recommendations)

    def _set_preference(self, user: str, recommendations: bool) -> dict[str, Any]:
        now = iso(self._clock())
        faults = self._cache.errors
        pk, sk = preference_key(user)
        self._state.put({"pk": pk, "sk": sk, "recommendations": recommendations, "updatedAt": now})
        self._cache.set_many(
            {optout_cache_key(user): b"0" if recommendations else b"1"}, PREFERENCE_CACHE_TTL
        )
        removed = 0 if recommendations else self._live.drop_personal_lists(user).model_rows
        self._require_cache_updated(faults, "the preference is stored")
        return {
            "preferences": {"recommendations": recommendations},
            "updatedAt": now,
            "personalizedRowsRemoved": removed,
        }

    def status(self, user_id: str) -> dict[str, Any]:
        """The user's preference and their latest erasure, if any."""
        return self._status(self._pseudonyms.user(user_id))

    def anonymous_status(self, anon_id: str) -> dict[str, Any]:
        """`status` of an anonymous id."""
        return self._status(self._pseudonyms.anon(anon_id))

    def _status(self, user: str) -> dict[str, Any]:
        preference, tombstone = self._state.get_many(
            [preference_key(user), tombstone_key(self._pseudonyms.tombstone(user))]
        )
        recommendations = not (preference and preference.get("recommendations") is False)
        erasure = None
        if tombstone and tombstone.get("receiptId"):
            receipt = self._receipts.get(str(tombstone["receiptId"]))
            if receipt is not None:
                erasure = {"receiptId": receipt.receipt_id, "status": receipt.status.value}
        return {
            "preferences": {"recommendations": recommendations},
            "updatedAt": preference.get("updatedAt") if preference else None,
            "erasure": erasure,
        }

    # ------------------------------------------------------------------ erasure
    def request_erasure(self, user_id: str, anonymous_ids: Sequence[str] = ()) -> dict[str, Any]:
        """Record the erasure and remove the shopper from every live store; returns the receipt.

        Repeating the request while it is pending returns the same receipt (and removes again
        whatever reappeared), so a client may retry any failure.

        Raises
        ------
        StoreUnavailableError
            A store failed (503); what was done stays done, a retry finishes it.
        CacheNotUpdatedError
            Everything is recorded but the cache could not be cleared (503; retry).
        """
        user = self._pseudonyms.user(user_id)
        anonymous = [self._pseudonyms.anon(raw) for raw in dict.fromkeys(anonymous_ids)]
        subject = self._pseudonyms.tombstone(user)
        linked = [self._pseudonyms.tombstone(visitor) for visitor in anonymous]
        now = iso(self._clock())
        faults = self._cache.errors
        receipt = self._receipts.pending_for(subject) or Receipt(new_receipt_id(), subject, now)
        receipt.linked = sorted({*receipt.linked, *linked})
        # Tombstones first: from here on no training run uses these events, whatever fails next.
        self._state.put_many(
            {"pk": pk, "sk": sk, "receiptId": receipt.receipt_id, "erasedAt": now}
            for pk, sk in (tombstone_key(t) for t in receipt.tombstones)
        )
        self._receipts.open(receipt)
        removed = self._live.erase_user(user)
        for visitor in anonymous:
            removed.add(self._live.erase_anonymous(visitor))
        receipt.removed.add(removed)
        receipt.removed.linked_anonymous_ids = len(receipt.linked)
        self._receipts.save(receipt)
        self._require_cache_updated(faults, f"erasure {receipt.receipt_id} is recorded")
        return receipt.public()

    def request_anonymous_erasure(self, anon_id: str) -> dict[str, Any]:
        """Erase an anonymous id: its tombstone, a receipt (whose subject it is), its preference
        and session signal at once; the purge removes its lake records and artifacts.

        Nothing of a signed-in user is erased here: training leaves out the id's own anonymous
        events even where a login linked it to a user, and the purge removes the id from the
        user's events instead of removing those events.

        Raises as `request_erasure`.
        """
        visitor = self._pseudonyms.anon(anon_id)
        subject = self._pseudonyms.tombstone(visitor)
        now = iso(self._clock())
        faults = self._cache.errors
        receipt = self._receipts.pending_for(subject) or Receipt(new_receipt_id(), subject, now)
        pk, sk = tombstone_key(subject)
        self._state.put({"pk": pk, "sk": sk, "receiptId": receipt.receipt_id, "erasedAt": now})
        self._receipts.open(receipt)
        receipt.removed.add(self._live.erase_anonymous(visitor))
        self._receipts.save(receipt)
        self._require_cache_updated(faults, f"erasure {receipt.receipt_id} is recorded")
        return receipt.public()

    def receipt(self, receipt_id: str) -> Receipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise NotFoundError("no such erasure receipt")
        return receipt

    def is_subject_of(self, receipt: Receipt, user_id: str) -> bool:
        """True when `user_id` is the shopper the receipt erased (compared by tombstone)."""
        tombstone = self._pseudonyms.tombstone(self._pseudonyms.user(user_id))
        return hmac.compare_digest(tombstone, receipt.subject)

    def is_anonymous_subject_of(self, receipt: Receipt, anon_id: str) -> bool:
        """True when the receipt erased this anonymous id (compared by tombstone)."""
        tombstone = self._pseudonyms.tombstone(self._pseudonyms.anon(anon_id))
        return hmac.compare_digest(tombstone, receipt.subject)

    def _require_cache_updated(self, faults_before: int, done: str) -> None:
        if self._cache.errors != faults_before:
            raise CacheNotUpdatedError(
                f"{done}, but the cache could not be updated; retry the request", retry_after=2
            )
