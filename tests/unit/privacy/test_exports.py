"""Data exports on in-memory stores: receipts and their states, the download answer, the export
document (preferences, session, current lists with reasons, the user's lake events), erasure of
exports, and who may fetch a receipt; an anonymous visitor's export (their signed id's own
anonymous events only) and its erasure."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

import pytest

from recs import lake_format
from recs.auth.caller import Caller
from recs.auth.errors import UnauthorizedError
from recs.auth.policy import SubjectPolicy
from recs.errors import NotFoundError, StoreUnavailableError
from recs.privacy.erasure import LiveData
from recs.privacy.export_job import (
    ANONYMOUS_EVENTS_NOTE,
    ANONYMOUS_LISTS_NOTE,
    EXPORT_FORMAT,
    ExportDeps,
    ExportJob,
    anonymous_events_of,
    events_of,
    without_signed_in,
)
from recs.privacy.exports import (
    ExportBook,
    ExportErasure,
    ExportReceipt,
    ExportService,
    ExportStatus,
    ExportTimings,
)
from recs.privacy.receipts import ReceiptBook
from recs.privacy.service import PrivacyService
from recs.store_layout import (
    POINTER_KEY,
    encode_items,
    export_key,
    iso,
    preference_key,
    purchased_pk,
    session_key,
    tombstone_key,
    user_export_key,
    user_pk,
    version_sk,
)
from recs_tools.memory_objects import MemoryObjects
from tests.unit.privacy.fakes import NOW, PSEUDONYMS, MemoryCache, MemoryTable, clock

USER, OTHER = "user_42", "user_43"
ME, SOMEONE = PSEUDONYMS.user(USER), PSEUDONYMS.user(OTHER)
LINKED, SHARED, STRANGER = PSEUDONYMS.anon("anon_mine"), PSEUDONYMS.anon("anon_family"), PSEUDONYMS.anon("x")


class ExportObjectsInMemory(MemoryObjects):
    """The export bucket: `MemoryObjects` that also answer existence and hand out URLs."""

    def exists(self, key: str) -> bool:
        return key in self.objects

    def download_url(self, key: str, expires_in_seconds: int) -> str:
        return f"https://exports.example/{key}?expires={expires_in_seconds}"


class Launcher:
    def __init__(self) -> None:
        self.launched: list[str] = []
        self.down = False

    def launch(self, receipt_id: str) -> None:
        if self.down:
            raise StoreUnavailableError("lambda: throttled")
        self.launched.append(receipt_id)


def record(n: int, user: str | None = None, anon: str | None = None, **extra: Any) -> bytes:
    fields: dict[str, Any] = {
        "eventId": f"e{n}",
        "eventType": "view",
        "productId": f"sku_{n}",
        "timestamp": f"2026-11-2{n % 10}T10:00:00Z",
        **extra,
    }
    if user:
        fields["userId"] = user
    if anon:
        fields["anonId"] = anon
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def lake() -> dict[str, bytes]:
    """The user's own events, a login linking LINKED, anonymous events of LINKED, another user's
    events, and SHARED: a browser the user and someone else both signed in from."""
    return {
        "events/2026/11/20/10/a.gz": gzip.compress(
            record(1, ME) + record(2, SOMEONE) + record(3, None, STRANGER)
        ),
        "events/2026/11/21/10/b": record(4, None, LINKED) + record(5, ME, LINKED, cart=["sku_9"]),
        "events/2026/11/22/10/c": record(6, ME, SHARED)
        + record(7, SOMEONE, SHARED)
        + record(8, None, SHARED),
        "events/2026/11/23/10/d": b"not json " + ME.encode() + b"\n" + record(9, SOMEONE),
    }


class World:
    def __init__(self) -> None:
        self.models, self.state, self.cache = MemoryTable(), MemoryTable(), MemoryCache()
        self.lake = MemoryObjects(lake())
        self.objects = ExportObjectsInMemory()
        self.launcher = Launcher()
        self.now = NOW
        self.book = ExportBook(self.state)
        self.exports = ExportService(
            self.book, self.objects, self.launcher, PSEUDONYMS, lambda: self.now, ExportTimings()
        )
        self.job = ExportJob(
            ExportDeps(
                book=self.book,
                state_table=self.state,
                model_table=self.models,
                lake=self.lake,
                lake_prefix="events/",
                objects=self.objects,
                pseudonyms=PSEUDONYMS,
                clock=lambda: self.now,
                prefetch=2,
            )
        )
        self.privacy = PrivacyService(
            LiveData(self.models, self.state, self.cache, exports=ExportErasure(self.book, self.objects)),
            self.state,
            ReceiptBook(self.state),
            self.cache,
            PSEUDONYMS,
            clock,
        )

    def publish(self) -> None:
        """A delta version v2 over base v1: the user's list is v2's, their purchases v1's."""
        self.models.put(
            {
                "pk": POINTER_KEY[0],
                "sk": POINTER_KEY[1],
                "modelVersion": "v2",
                "generatedAt": "2026-11-26T03:00:00Z",
                "baseVersion": "v1",
            }
        )
        ranked = [("sku_1", 0.9, "because you viewed sku_5"), ("sku_2", 0.5, None)]
        self.models.put({"pk": user_pk(ME), "sk": version_sk("v2"), "d": encode_items(ranked)})
        self.models.put({"pk": user_pk(ME), "sk": version_sk("v1"), "d": encode_items([("old", 1.0, None)])})
        self.models.put(
            {"pk": purchased_pk(ME), "sk": version_sk("v1"), "d": encode_items([("sku_7", 2.0, None)])}
        )
        self.models.put(
            {"pk": user_pk(SOMEONE), "sk": version_sk("v2"), "d": encode_items([("sku_3", 1.0, "x")])}
        )
        pk, sk = preference_key(ME)
        self.state.put({"pk": pk, "sk": sk, "recommendations": True, "updatedAt": "2026-11-01T00:00:00Z"})
        pk, sk = session_key(ME)
        self.state.put({"pk": pk, "sk": sk, "d": json.dumps([["sku_5", "view", "2026-11-26T11:00:00Z"]])})

    def exported(self, receipt_id: str) -> dict[str, Any]:
        receipt = self.book.get(receipt_id)
        assert receipt is not None
        assert receipt.object_key is not None
        document: dict[str, Any] = json.loads(self.objects.objects[receipt.object_key])
        return document


@pytest.fixture
def world() -> World:
    return World()


# ---------------------------------------------------------------------------------- receipts
def test_a_request_opens_a_pending_receipt_and_starts_the_job_once(world: World) -> None:
    # When the user asks for an export, twice (a client's retry)
    first = world.exports.request(USER)
    again = world.exports.request(USER)
    # Then one receipt, pending, expiring after the retention, and one job started
    assert first == again
    assert first["status"] == "pending"
    assert first["requestedAt"] == iso(NOW)
    assert first["expiresAt"] == iso(NOW + timedelta(days=7))
    assert world.launcher.launched == [first["receiptId"]]
    # And the answer names neither the raw id nor the pseudonym; the row names the pseudonym only
    assert USER not in json.dumps(first)
    assert ME not in json.dumps(first)
    row = world.state.items[export_key(first["receiptId"])]
    assert row["owner"] == ME
    assert USER not in json.dumps(row)
    # And the row's TTL (epoch seconds) outlives the object by a month, the 410 window
    assert row["expiresAt"] == int((NOW + timedelta(days=37)).timestamp())
    assert user_export_key(ME, first["receiptId"]) in world.state.items


def test_a_job_that_cannot_be_started_fails_the_receipt_and_a_retry_opens_a_new_one(world: World) -> None:
    # Given Lambda refusing the invocation
    world.launcher.down = True
    # When the user asks / Then the request fails as unavailable (503), the receipt says failed
    with pytest.raises(StoreUnavailableError):
        world.exports.request(USER)
    (failed,) = world.book.of_user(ME)
    assert failed.status is ExportStatus.FAILED
    # And once Lambda is back, a retry gets a new receipt
    world.launcher.down = False
    retry = world.exports.request(USER)
    assert retry["receiptId"] != failed.receipt_id
    assert world.launcher.launched == [retry["receiptId"]]


def test_the_download_answer_follows_the_receipt_through_its_life(world: World) -> None:
    # Given an export requested
    receipt_id = world.exports.request(USER)["receiptId"]
    receipt = world.exports.receipt(receipt_id)
    # Then while the job runs it is pending, without a URL
    pending = world.exports.download(receipt)
    assert (pending.status_code, pending.body["status"]) == (200, "pending")
    assert "url" not in pending.body
    # When the job has written it / Then a URL valid for the configured seconds
    world.job.run(receipt_id)
    ready = world.exports.download(world.exports.receipt(receipt_id))
    assert (ready.status_code, ready.body["status"]) == (200, "ready")
    assert ready.body["url"].endswith("?expires=300")
    assert ready.body["urlExpiresAt"] == iso(NOW + timedelta(seconds=300))
    assert ready.body["completedAt"] == iso(NOW)
    # When the retention has passed / Then 410 Gone, expired, no URL
    world.now = NOW + timedelta(days=7)
    gone = world.exports.download(world.exports.receipt(receipt_id))
    assert (gone.status_code, gone.body["status"]) == (410, "expired")
    assert "url" not in gone.body


def test_an_export_whose_object_is_gone_answers_410(world: World) -> None:
    # Given a ready export whose object the lifecycle rule deleted (it rounds to midnight)
    receipt_id = world.exports.request(USER)["receiptId"]
    world.job.run(receipt_id)
    world.objects.objects.clear()
    # When it is fetched / Then 410 Gone
    answer = world.exports.download(world.exports.receipt(receipt_id))
    assert (answer.status_code, answer.body["status"]) == (410, "expired")


def test_a_job_that_never_finished_is_reported_failed_and_a_new_request_is_accepted(world: World) -> None:
    # Given an export whose job died (no Lambda retry finished it)
    receipt_id = world.exports.request(USER)["receiptId"]
    # When more than the stale limit has passed
    world.now = NOW + timedelta(seconds=ExportTimings().stale_after_seconds + 1)
    # Then the receipt says failed, and a new request opens a new receipt and job
    assert world.exports.download(world.exports.receipt(receipt_id)).body["status"] == "failed"
    assert world.exports.request(USER)["receiptId"] != receipt_id
    assert len(world.launcher.launched) == 2


def test_an_unknown_receipt_is_not_found_and_ownership_is_by_pseudonym(world: World) -> None:
    # Given an export of the user
    receipt = world.exports.receipt(world.exports.request(USER)["receiptId"])
    # Then an unknown id is 404, and the receipt is the user's and nobody else's
    with pytest.raises(NotFoundError):
        world.exports.receipt("0" * 32)
    assert world.exports.is_owner(receipt, USER)
    assert not world.exports.is_owner(receipt, OTHER)


def test_another_shoppers_receipt_is_hidden_as_not_found_and_no_token_is_401() -> None:
    # Given caller authorization on and a receipt owned by USER
    policy = SubjectPolicy(enabled=True)
    owns = lambda subject: subject == USER  # noqa: E731
    # Then its owner passes, another shopper gets 404 (not 403), a caller without token 401
    policy.require_owner(Caller(USER), owns, hide=True)
    with pytest.raises(NotFoundError):
        policy.require_owner(Caller(OTHER), owns, hide=True)
    with pytest.raises(UnauthorizedError):
        policy.require_owner(None, owns, hide=True)
    # And without authorization the receipt id alone (128 random bits) is the capability
    SubjectPolicy.disabled().require_owner(None, owns, hide=True)


# ---------------------------------------------------------------------------------- the document
def test_the_export_holds_preferences_session_lists_with_reasons_and_the_users_lake_events(
    world: World,
) -> None:
    # Given a published delta version, a preference, a session and the lake
    world.publish()
    receipt_id = world.exports.request(USER)["receiptId"]
    # When the job runs
    outcome = world.job.run(receipt_id)
    # Then the receipt is ready and the document is the user's
    assert outcome.status == "ready"
    assert world.exports.receipt(receipt_id).status is ExportStatus.READY
    document = world.exported(receipt_id)
    assert document["format"] == EXPORT_FORMAT
    assert document["receiptId"] == receipt_id
    assert document["preferences"] == {"recommendations": True, "updatedAt": "2026-11-01T00:00:00Z"}
    assert document["session"] == [
        {"productId": "sku_5", "eventType": "view", "timestamp": "2026-11-26T11:00:00Z"}
    ]
    # And the current version's list with each reason, the base's purchases (a delta's fallback)
    assert document["lists"] == {
        "modelVersion": "v2",
        "personal": [
            {"productId": "sku_1", "score": 0.9, "reason": "because you viewed sku_5"},
            {"productId": "sku_2", "score": 0.5, "reason": None},
        ],
        "purchased": [{"productId": "sku_7", "count": 2.0}],
    }
    # And the events under their pseudonym and their linked anonymous id, fields as stored
    events = {e["eventId"]: e for e in document["events"]}
    assert sorted(events) == ["e1", "e4", "e5", "e6"]
    assert events["e5"] == json.loads(record(5, ME, LINKED, cart=["sku_9"]))
    # And the shared browser is named, but its anonymous events (maybe someone else's) left out
    assert document["subject"] == {
        "userPseudonym": ME,
        "linkedAnonymousPseudonyms": sorted([LINKED, SHARED]),
        "sharedAnonymousPseudonyms": [SHARED],
    }
    # And nothing of the other user or the stranger is in it
    text = json.dumps(document)
    assert SOMEONE not in text
    assert STRANGER not in text
    assert "sku_3" not in text
    assert (outcome.events, outcome.linked_anonymous_ids) == (4, 2)


def test_a_user_without_model_or_events_gets_an_export_that_says_so(world: World) -> None:
    # Given a user the product knows nothing about
    receipt_id = world.exports.request("nobody")["receiptId"]
    # When the job runs / Then an export with defaults and empty sections
    world.job.run(receipt_id)
    document = world.exported(receipt_id)
    assert document["preferences"] == {"recommendations": True, "updatedAt": None}
    assert document["lists"] == {"modelVersion": None, "personal": [], "purchased": []}
    assert document["events"] == []
    assert document["session"] == []


def test_events_of_keeps_order_by_time_and_leaves_out_other_users_records() -> None:
    # Given records of the user, of their linked browser and of another user on that browser
    records = [
        {"eventId": "b", "timestamp": "2026-01-02", "userId": ME},
        {"eventId": "a", "timestamp": "2026-01-01", "anonId": LINKED},
        {"eventId": "c", "timestamp": "2026-01-03", "userId": SOMEONE, "anonId": LINKED},
    ]
    # When they are sorted out
    events = events_of(ME, [LINKED], records)
    # Then the other user's record is out, LINKED counts as shared, and only the user's own stay
    assert [e["eventId"] for e in events.records] == ["b"]
    assert events.shared == [LINKED]


def test_the_job_leaves_a_finished_or_erased_receipt_alone(world: World) -> None:
    # Given a ready export / When Lambda retries the invocation / Then nothing is written again
    receipt_id = world.exports.request(USER)["receiptId"]
    world.job.run(receipt_id)
    world.objects.objects.clear()
    assert world.job.run(receipt_id).status == "ready"
    assert world.objects.objects == {}
    # And a receipt that no longer exists (erased) is "gone"
    assert world.job.run("f" * 32).status == "gone"


def test_a_store_fault_leaves_the_receipt_pending_for_lambdas_retry(world: World) -> None:
    # Given the model table throttled
    receipt_id = world.exports.request(USER)["receiptId"]
    world.models.fail_on.add("get")
    # When the job runs / Then it raises for Lambda to retry, and the receipt stays pending
    with pytest.raises(StoreUnavailableError):
        world.job.run(receipt_id)
    assert world.exports.receipt(receipt_id).status is ExportStatus.PENDING
    # And the retry, with the table back, finishes it
    world.models.fail_on.clear()
    assert world.job.run(receipt_id).status == "ready"


def test_any_other_failure_marks_the_receipt_failed(world: World) -> None:
    # Given a pointer row the job cannot read (no modelVersion)
    world.models.put({"pk": POINTER_KEY[0], "sk": POINTER_KEY[1]})
    receipt_id = world.exports.request(USER)["receiptId"]
    # When the job runs / Then it raises, and the receipt says failed rather than pending
    with pytest.raises(KeyError):
        world.job.run(receipt_id)
    receipt = world.exports.receipt(receipt_id)
    assert (receipt.status, receipt.failure) == (ExportStatus.FAILED, "error")


# ---------------------------------------------------------------------------------- erasure
def test_erasure_deletes_the_users_exports_and_their_receipts(world: World) -> None:
    # Given a ready export of the user and one of another user
    mine = world.exports.request(USER)["receiptId"]
    theirs = world.exports.request(OTHER)["receiptId"]
    world.job.run(mine)
    world.job.run(theirs)
    # When the user asks for erasure
    receipt = world.privacy.request_erasure(USER)
    # Then their export object and receipts are gone, and the erasure receipt counts the object
    assert receipt["removed"]["exportObjects"] == 1
    assert [k for k in world.objects.objects if ME in k] == []
    assert world.book.get(mine) is None
    assert [k for k in world.state.items if mine in k[0] or mine in k[1]] == []
    with pytest.raises(NotFoundError):
        world.exports.receipt(mine)
    # And the other user's export is untouched
    assert world.book.get(theirs) is not None
    assert [k for k in world.objects.objects if SOMEONE in k]


def test_an_export_finishing_after_an_erasure_deletes_what_it_wrote(world: World) -> None:
    # Given an export whose job is still running when the erasure's tombstone is written
    receipt_id = world.exports.request(USER)["receiptId"]
    world.privacy.request_erasure(USER)
    # (the erasure deleted the receipt: a job that had read it already goes on)
    receipt = ExportReceipt(receipt_id, ME, iso(NOW), iso(NOW + timedelta(days=7)))
    world.book.open(receipt)
    assert world.state.get(*tombstone_key(PSEUDONYMS.tombstone(ME))) is not None
    # When the job finishes / Then it removes its object and the receipt again
    assert world.job.run(receipt_id).status == "erased"
    assert world.objects.objects == {}
    assert world.book.get(receipt_id) is None
    assert world.book.of_user(ME) == []


# ---------------------------------------------------------------------------------- anonymous visitors
# The raw anonymous ids of the lake's browsers (the route has checked the signature before).
MY_BROWSER, FAMILY_BROWSER = "anon_mine", "anon_family"


def test_an_anonymous_export_holds_the_ids_own_data_and_none_of_the_linked_users(world: World) -> None:
    # Given a published model, the user's preference and session, and under the anonymous id
    # (linked to the user by a login) an opt-out, a session signal and a row a run stored
    world.publish()
    pk, sk = preference_key(LINKED)
    world.state.put({"pk": pk, "sk": sk, "recommendations": False, "updatedAt": "2026-11-02T00:00:00Z"})
    pk, sk = session_key(LINKED)
    # (the session row also holds the login's view of sku_5, e5: ingest feeds both ids' rows)
    session = [["sku_5", "view", "2026-11-25T10:00:00Z"], ["sku_4", "view", "2026-11-24T10:00:00Z"]]
    world.state.put({"pk": pk, "sk": sk, "d": json.dumps(session)})
    world.models.put(
        {"pk": user_pk(LINKED), "sk": version_sk("v2"), "d": encode_items([("sku_8", 0.4, None)])}
    )
    # When the holder of the anonymous id exports and the job runs
    receipt_id = world.exports.request_anonymous(MY_BROWSER)["receiptId"]
    outcome = world.job.run(receipt_id)
    document = world.exported(receipt_id)
    # Then the receipt is owned by the anonymous pseudonym and the object lies under it
    receipt = world.exports.receipt(receipt_id)
    assert (receipt.owner, receipt.object_key) == (LINKED, f"exports/{LINKED}/{receipt_id}.json")
    # And the document is the id's: its preference, its session, the row stored under it
    assert document["format"] == EXPORT_FORMAT
    assert document["subject"] == {"anonymousPseudonym": LINKED}
    assert document["preferences"] == {"recommendations": False, "updatedAt": "2026-11-02T00:00:00Z"}
    # (without the entry the signed-in event fed: that view is the user's)
    assert document["session"] == [
        {"productId": "sku_4", "eventType": "view", "timestamp": "2026-11-24T10:00:00Z"}
    ]
    assert document["lists"] == {
        "modelVersion": "v2",
        "personal": [{"productId": "sku_8", "score": 0.4, "reason": None}],
        "purchased": [],
        "note": ANONYMOUS_LISTS_NOTE,
    }
    # And only the id's own anonymous event: the login's event (e5, carrying both ids) is the user's
    assert [e["eventId"] for e in document["events"]] == ["e4"]
    assert document["notes"] == {"events": ANONYMOUS_EVENTS_NOTE}
    # And no user (pseudonym, list item or session) is named anywhere in it
    text = json.dumps(document)
    for absent in (ME, SOMEONE, SHARED, STRANGER, "sku_1", "sku_5", "sku_9"):
        assert absent not in text
    assert (outcome.status, outcome.events, outcome.linked_anonymous_ids, outcome.list_items) == (
        "ready",
        1,
        0,
        1,
    )


def test_a_shared_browsers_anonymous_export_leaves_out_every_signed_in_users_events(world: World) -> None:
    # Given the family browser: the user and someone else signed in on it, plus one anonymous event
    # When its holder exports
    receipt_id = world.exports.request_anonymous(FAMILY_BROWSER)["receiptId"]
    world.job.run(receipt_id)
    document = world.exported(receipt_id)
    # Then only the anonymous event, neither user's, and an empty list that says why
    assert [e["eventId"] for e in document["events"]] == ["e8"]
    assert document["lists"] == {
        "modelVersion": None,
        "personal": [],
        "purchased": [],
        "note": ANONYMOUS_LISTS_NOTE,
    }
    assert ME not in json.dumps(document)
    assert SOMEONE not in json.dumps(document)


def test_anonymous_events_of_keeps_records_without_a_user_oldest_first() -> None:
    # Given the id's records: two anonymous, one made signed in
    records: list[dict[str, Any]] = [
        {"eventId": "b", "timestamp": "2026-01-02", "anonId": LINKED},
        {"eventId": "c", "timestamp": "2026-01-03", "userId": ME, "anonId": LINKED},
        {"eventId": "a", "timestamp": "2026-01-01", "anonId": LINKED, "userId": None},
    ]
    # When they are sorted out / Then the signed-in one is out and the rest in time order
    assert [e["eventId"] for e in anonymous_events_of(records)] == ["a", "b"]


def test_the_session_entries_signed_in_events_fed_are_left_out_whatever_the_timestamps_spelling() -> None:
    # Given a session with an anonymous view and a view made signed in, and the lake's records of
    # them (the lake spells the offset +00:00 where the session row says Z)
    session = [("sku_2", "view", "2026-01-02T10:00:00Z"), ("sku_1", "view", "2026-01-01T10:00:00Z")]
    records = [
        {"productId": "sku_2", "eventType": "view", "timestamp": "2026-01-02T10:00:00+00:00", "userId": ME},
        {"productId": "sku_1", "eventType": "view", "timestamp": "2026-01-01T10:00:00+00:00"},
        {"productId": "sku_1", "eventType": "cart", "timestamp": "2026-01-01T10:00:00Z", "userId": ME},
    ]
    # When the signed-in entries are left out / Then only the anonymous view stays
    assert without_signed_in(session, records) == [("sku_1", "view", "2026-01-01T10:00:00Z")]


def test_an_anonymous_receipt_answers_its_holder_only_and_never_a_user(world: World) -> None:
    # Given an export of the anonymous id and one of the user, with a user id spelled like the
    # anonymous id (the two kinds of pseudonym never compare equal)
    anonymous = world.exports.receipt(world.exports.request_anonymous(MY_BROWSER)["receiptId"])
    users = world.exports.receipt(world.exports.request(MY_BROWSER)["receiptId"])
    # Then the anonymous receipt is its holder's only, and the user's receipt never the holder's
    assert anonymous.receipt_id != users.receipt_id
    assert world.exports.is_anonymous_owner(anonymous, MY_BROWSER)
    assert not world.exports.is_anonymous_owner(anonymous, FAMILY_BROWSER)
    assert not world.exports.is_owner(anonymous, MY_BROWSER)
    assert not world.exports.is_anonymous_owner(users, MY_BROWSER)
    assert world.exports.is_owner(users, MY_BROWSER)
    # And the user route never finds the anonymous receipt, with or without authorization
    with pytest.raises(NotFoundError):
        world.exports.user_receipt(anonymous.receipt_id)
    assert world.exports.user_receipt(users.receipt_id).receipt_id == users.receipt_id


def test_an_anonymous_export_has_the_users_receipt_life(world: World) -> None:
    # Given an anonymous export requested twice (a retry) / Then one receipt and one job
    first = world.exports.request_anonymous(MY_BROWSER)
    assert world.exports.request_anonymous(MY_BROWSER) == first
    assert world.launcher.launched == [first["receiptId"]]
    assert LINKED not in json.dumps(first)
    assert MY_BROWSER not in json.dumps(first)
    # When the job has run / Then ready with a URL; past its retention 410
    world.job.run(first["receiptId"])
    ready = world.exports.download(world.exports.receipt(first["receiptId"]))
    assert (ready.status_code, ready.body["status"]) == (200, "ready")
    assert "url" in ready.body
    world.now = NOW + timedelta(days=7)
    gone = world.exports.download(world.exports.receipt(first["receiptId"]))
    assert (gone.status_code, gone.body["status"]) == (410, "expired")


def test_an_anonymous_erasure_deletes_the_visitors_exports_and_not_the_linked_users(world: World) -> None:
    # Given a ready export of the anonymous id and one of the user it is linked to
    mine = world.exports.request_anonymous(MY_BROWSER)["receiptId"]
    users = world.exports.request(USER)["receiptId"]
    world.job.run(mine)
    world.job.run(users)
    # When the anonymous holder erases the id
    receipt = world.privacy.request_anonymous_erasure(MY_BROWSER)
    # Then the visitor's export object and receipts are gone, counted in the erasure receipt
    assert receipt["removed"]["exportObjects"] == 1
    assert [k for k in world.objects.objects if LINKED in k] == []
    assert world.book.get(mine) is None
    assert world.book.of_user(LINKED) == []
    # And the user's export is untouched (their rights are theirs)
    assert world.book.get(users) is not None
    assert [k for k in world.objects.objects if ME in k]


def test_an_anonymous_export_finishing_after_the_ids_erasure_deletes_what_it_wrote(world: World) -> None:
    # Given an anonymous export whose job still runs when the id is erased
    receipt_id = world.exports.request_anonymous(MY_BROWSER)["receiptId"]
    world.privacy.request_anonymous_erasure(MY_BROWSER)
    world.book.open(ExportReceipt(receipt_id, LINKED, iso(NOW), iso(NOW + timedelta(days=7))))
    # When the job finishes / Then it removes its object and the receipt again
    assert world.job.run(receipt_id).status == "erased"
    assert world.objects.objects == {}
    assert world.book.of_user(LINKED) == []


# ---------------------------------------------------------------------------------- Parquet lake
def as_converted(objects: dict[str, bytes], parquet: bool) -> dict[str, bytes]:
    """The lake's records as Firehose's record format conversion leaves them, written as Parquet or
    as NDJSON: fields the Glue table does not name are dropped, and a line that is not a record
    never reaches the lake (it goes to the stream's error prefix)."""
    converted = {}
    for key, data in objects.items():
        text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
        records = []
        for line in text.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        kept = [{k: v for k, v in r.items() if k in lake_format.RECORD_FIELDS} for r in records]
        converted[key] = (
            lake_format.encode_records(kept)
            if parquet
            else b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in kept)
        )
    return converted


@pytest.mark.parametrize("owner", [USER, MY_BROWSER, FAMILY_BROWSER])
def test_an_export_from_a_parquet_lake_is_the_export_of_the_same_records_in_ndjson(owner: str) -> None:
    # Given the same records in an NDJSON lake and in a Parquet lake (a published model, the
    # user's preference and session), for the user, their browser and a shared browser
    documents = []
    for parquet in (False, True):
        world = World()
        world.lake.objects = as_converted(lake(), parquet)
        world.publish()
        # When the owner's export runs
        request = world.exports.request if owner == USER else world.exports.request_anonymous
        receipt_id = request(owner)["receiptId"]
        assert world.job.run(receipt_id).status == "ready"
        document = world.exported(receipt_id)
        assert document.pop("receiptId") == receipt_id
        documents.append(document)
    # Then both documents are the same, events included
    from_ndjson, from_parquet = documents
    assert from_parquet == from_ndjson
    assert from_parquet["events"]
