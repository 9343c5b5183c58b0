"""The privacy service on in-memory stores: preferences, erasure requests, receipts, faults."""

from __future__ import annotations

import pytest

from recs.errors import NotFoundError, StoreUnavailableError
from recs.privacy.erasure import LiveData
from recs.privacy.receipts import ErasureStatus, ReceiptBook
from recs.privacy.service import CacheNotUpdatedError, PrivacyService
from recs.store_layout import (
    PENDING_ERASURES_PK,
    cache_key,
    optout_cache_key,
    preference_key,
    purchased_pk,
    session_cache_key,
    session_key,
    tombstone_key,
    user_pk,
    version_sk,
)
from tests.unit.privacy.fakes import PSEUDONYMS, MemoryCache, MemoryTable, clock

USER = "user_42"
PSEUDONYM = PSEUDONYMS.user(USER)


class Stores:
    def __init__(self) -> None:
        self.models = MemoryTable()
        self.state = MemoryTable()
        self.cache = MemoryCache()
        self.service = PrivacyService(
            LiveData(self.models, self.state, self.cache),
            self.state,
            ReceiptBook(self.state),
            self.cache,
            PSEUDONYMS,
            clock,
        )

    def publish_user(self, pseudonym: str, *versions: str) -> None:
        """Rows and cached copies of a user's lists, as training and serving leave them."""
        for version in versions:
            for pk in (user_pk(pseudonym), purchased_pk(pseudonym)):
                self.models.put({"pk": pk, "sk": version_sk(version), "d": "[]"})
                self.cache.values[cache_key(version, pk)] = b"[]"
        self.cache.values[cache_key("v0-old", user_pk(pseudonym))] = b"-"  # an "absent" marker
        pk, sk = session_key(pseudonym)
        self.state.put({"pk": pk, "sk": sk, "d": "[]"})
        self.cache.values[session_cache_key(pseudonym)] = b"[]"


@pytest.fixture
def stores() -> Stores:
    return Stores()


def test_opting_out_stores_the_flag_and_removes_personal_lists_at_once(stores: Stores) -> None:
    # Given a user with lists in two versions, cached copies and a session signal
    stores.publish_user(PSEUDONYM, "v1", "v2")
    # When they opt out
    result = stores.service.set_preference(USER, False)
    # Then the preference row and the cache flag say so
    assert stores.state.items[preference_key(PSEUDONYM)]["recommendations"] is False
    assert stores.cache.values[optout_cache_key(PSEUDONYM)] == b"1"
    # And no list, cached list or session of theirs is left, and the answer names no raw id
    assert not [k for k in stores.models.items if PSEUDONYM in k[0]]
    assert session_key(PSEUDONYM) not in stores.state.items
    assert not [k for k in stores.cache.values if k.startswith("recs:v") and "v0-old" not in k]
    assert result["personalizedRowsRemoved"] == 4
    assert USER not in str(result)


def test_opting_back_in_flips_the_flag(stores: Stores) -> None:
    # Given an opted-out user / When they opt back in
    stores.service.set_preference(USER, False)
    stores.service.set_preference(USER, True)
    # Then the flag says in, and the status reads it back
    assert stores.cache.values[optout_cache_key(PSEUDONYM)] == b"0"
    assert stores.service.status(USER)["preferences"] == {"recommendations": True}


def test_a_cache_fault_during_an_opt_out_answers_503_with_the_preference_stored(stores: Stores) -> None:
    # Given a cache that fails
    stores.cache.down = True
    # When the user opts out / Then the caller is told to retry (the cached flag may be stale)
    with pytest.raises(CacheNotUpdatedError):
        stores.service.set_preference(USER, False)
    # And the preference itself is stored (serving reads it on any cache miss)
    assert stores.state.items[preference_key(PSEUDONYM)]["recommendations"] is False


def test_a_store_fault_during_an_opt_out_is_a_store_error(stores: Stores) -> None:
    # Given a state table that refuses writes / When the user opts out / Then 503 (nothing to lose)
    stores.state.fail_on.add("put")
    with pytest.raises(StoreUnavailableError):
        stores.service.set_preference(USER, False)


def test_an_erasure_tombstones_removes_and_returns_a_pending_receipt(stores: Stores) -> None:
    # Given a user with published lists, a preference, a session and a browser's anonymous id
    stores.publish_user(PSEUDONYM, "v1", "v2")
    stores.service.set_preference(USER, True)
    anonymous = PSEUDONYMS.anon("anon_7")
    pk, sk = session_key(anonymous)
    stores.state.put({"pk": pk, "sk": sk, "d": "[]"})
    # When they ask for erasure, naming their browser's anonymous id
    receipt = stores.service.request_erasure(USER, ["anon_7"])
    # Then a pending receipt is returned with what was removed
    assert receipt["status"] == "pending"
    assert receipt["removed"]["modelRows"] == 4
    assert receipt["removed"]["linkedAnonymousIds"] == 1
    # And both pseudonyms are tombstoned, and no store holds either pseudonym any more
    assert tombstone_key(PSEUDONYMS.tombstone(PSEUDONYM)) in stores.state.items
    assert tombstone_key(PSEUDONYMS.tombstone(anonymous)) in stores.state.items
    everything = repr(stores.models.items) + repr(stores.state.items) + repr(stores.cache.values)
    assert PSEUDONYM not in everything
    assert anonymous not in everything
    assert USER not in everything
    # And the receipt is listed as pending, by tombstone only
    pending = stores.state.query(PENDING_ERASURES_PK)
    assert [row["sk"] for row in pending] == [receipt["receiptId"]]


def test_repeating_a_pending_erasure_returns_the_same_receipt(stores: Stores) -> None:
    # Given a pending erasure / When the client asks again (e.g. after a timeout)
    first = stores.service.request_erasure(USER)
    second = stores.service.request_erasure(USER)
    # Then it is the same receipt, listed once
    assert second["receiptId"] == first["receiptId"]
    assert len(stores.state.query(PENDING_ERASURES_PK)) == 1


def test_an_erasure_that_fails_midway_leaves_the_tombstone_and_a_retry_finishes(stores: Stores) -> None:
    # Given a model table that fails while the user's rows are being removed
    stores.publish_user(PSEUDONYM, "v1")
    stores.models.fail_on.add("query")
    # When the erasure is requested / Then the caller gets a store error (503, retry)
    with pytest.raises(StoreUnavailableError):
        stores.service.request_erasure(USER)
    # And training would already leave the user out (the tombstone is written first)
    assert tombstone_key(PSEUDONYMS.tombstone(PSEUDONYM)) in stores.state.items
    # When the table recovers and the client retries / Then the erasure completes its live part
    stores.models.fail_on.clear()
    receipt = stores.service.request_erasure(USER)
    assert receipt["removed"]["modelRows"] == 2
    assert not [k for k in stores.models.items if PSEUDONYM in k[0]]


def test_a_cache_fault_during_an_erasure_answers_503_and_the_retry_clears_the_cache(stores: Stores) -> None:
    # Given cached lists and a cache that fails during the request
    stores.publish_user(PSEUDONYM, "v1")
    stores.cache.down = True
    # When the erasure is requested / Then the caller is told to retry
    with pytest.raises(CacheNotUpdatedError):
        stores.service.request_erasure(USER)
    # When the cache is back and the client retries / Then no cached copy is left
    stores.cache.down = False
    stores.service.request_erasure(USER)
    assert not [k for k in stores.cache.values if PSEUDONYM in k]


def test_receipts_and_status_name_no_one(stores: Stores) -> None:
    # Given an erasure
    receipt_id = stores.service.request_erasure(USER)["receiptId"]
    # When the receipt and the status are read
    receipt = stores.service.receipt(receipt_id)
    status = stores.service.status(USER)
    # Then they agree, and the receipt belongs to the user (by tombstone) and to no one else
    assert status["erasure"] == {"receiptId": receipt_id, "status": ErasureStatus.PENDING.value}
    assert stores.service.is_subject_of(receipt, USER)
    assert not stores.service.is_subject_of(receipt, "user_43")
    public = receipt.public()
    assert set(public) == {"receiptId", "status", "requestedAt", "removed"}
    assert PSEUDONYM not in repr(stores.state.items)


def test_an_unknown_receipt_is_not_found(stores: Stores) -> None:
    # Given no such receipt / When it is read / Then 404
    with pytest.raises(NotFoundError):
        stores.service.receipt("0" * 32)


# ---------------------------------------------------------------------- anonymous visitors
ANON = "v1.AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB"  # the route checked the signature
ANON_PSEUDONYM = PSEUDONYMS.anon(ANON)


def test_an_anonymous_opt_out_is_the_same_row_and_flag_under_the_anonymous_pseudonym(stores: Stores) -> None:
    # Given an anonymous visitor with a session signal
    stores.publish_user(ANON_PSEUDONYM, "v1")
    # When the holder of the id opts out
    result = stores.service.set_anonymous_preference(ANON, False)
    # Then the preference row and the flag serving reads are keyed by the anonymous pseudonym
    assert stores.state.items[preference_key(ANON_PSEUDONYM)]["recommendations"] is False
    assert stores.cache.values[optout_cache_key(ANON_PSEUDONYM)] == b"1"
    # And their session signal is gone; the answer names no id
    assert session_key(ANON_PSEUDONYM) not in stores.state.items
    assert ANON not in str(result)
    assert ANON_PSEUDONYM not in str(result)
    # And the status reads it back; a user's pseudonym of the same string is another row
    assert stores.service.anonymous_status(ANON)["preferences"] == {"recommendations": False}
    assert stores.service.status(ANON)["preferences"] == {"recommendations": True}


def test_an_anonymous_erasure_tombstones_the_id_and_clears_its_live_data(stores: Stores) -> None:
    # Given an anonymous visitor who opted out earlier and has a session signal
    stores.service.set_anonymous_preference(ANON, False)
    stores.publish_user(ANON_PSEUDONYM, "v1")
    # (serving reads no personal list for an anonymous id, so it never caches an "absent" marker)
    del stores.cache.values[cache_key("v0-old", user_pk(ANON_PSEUDONYM))]
    # When the holder asks for erasure
    receipt = stores.service.request_anonymous_erasure(ANON)
    # Then a pending receipt, whose subject is the anonymous id's tombstone
    assert receipt["status"] == "pending"
    stored = stores.service.receipt(receipt["receiptId"])
    assert stores.service.is_anonymous_subject_of(stored, ANON)
    assert not stores.service.is_anonymous_subject_of(
        stored, "v1.CCCCCCCCCCCCCCCCCCCCCC.DDDDDDDDDDDDDDDDDDDDDD"
    )
    assert not stores.service.is_subject_of(stored, ANON)  # a user id of the same string is someone else
    # And the tombstone is stored, and no store holds the pseudonym any more
    assert tombstone_key(PSEUDONYMS.tombstone(ANON_PSEUDONYM)) in stores.state.items
    everything = repr(stores.models.items) + repr(stores.state.items) + repr(stores.cache.values)
    assert ANON_PSEUDONYM not in everything
    assert ANON not in everything
    # And the status names the erasure; repeating it returns the same receipt
    assert stores.service.anonymous_status(ANON)["erasure"] == {
        "receiptId": receipt["receiptId"],
        "status": "pending",
    }
    assert stores.service.request_anonymous_erasure(ANON)["receiptId"] == receipt["receiptId"]


def test_a_cache_fault_during_an_anonymous_erasure_answers_503_with_the_tombstone_stored(
    stores: Stores,
) -> None:
    # Given a cache that fails / When the holder asks for erasure / Then retry (503)
    stores.cache.down = True
    with pytest.raises(CacheNotUpdatedError):
        stores.service.request_anonymous_erasure(ANON)
    # And training already leaves the id out (the tombstone came first)
    assert tombstone_key(PSEUDONYMS.tombstone(ANON_PSEUDONYM)) in stores.state.items
