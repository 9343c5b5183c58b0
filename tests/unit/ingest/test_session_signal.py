"""The live session signal: bounded, expiring, opt-out aware, safe under concurrency and faults."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from recs.contracts.events import LakeRecord, ShopEvent
from recs.ingest.lake_records import to_lake_records
from recs.ingest.session_signal import SessionSignal, SignalStatus, merge_recent
from recs.pseudonyms import Pseudonymizer
from recs.store_layout import preference_key, session_cache_key, session_key, session_row
from tests.unit.ingest.fakes import MemoryRows, RecordingCache

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = 7 * 86_400
PSEUDONYMS = Pseudonymizer(b"unit-test-pseudonym-key-0123456789")
_EVENTS = TypeAdapter(list[ShopEvent])


def _records(*events: dict[str, Any]) -> list[LakeRecord]:
    return to_lake_records(_EVENTS.validate_python(list(events)), PSEUDONYMS, NOW)


def event(n: int, product: str | None, minutes_ago: float = 0, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        "userId": "user_1",
        "productId": product,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def _signal(rows: MemoryRows, cache: RecordingCache | None = None, max_items: int = 3) -> SessionSignal:
    return SessionSignal(
        rows, cache or RecordingCache(), max_items=max_items, ttl_seconds=TTL, clock=lambda: NOW
    )


def _recent(rows: MemoryRows, visitor: str) -> list[list[str]]:
    recent: list[list[str]] = json.loads(rows.items[session_key(visitor)]["d"])
    return recent


def test_recent_products_are_kept_newest_first_bounded_and_expiring() -> None:
    # Given five views of four products by one user
    rows = MemoryRows()
    outcome = _signal(rows, max_items=3).record(
        _records(
            event(1, "sku_a", 50),
            event(2, "sku_b", 40),
            event(3, "sku_c", 30),
            event(4, "sku_a", 20),
            event(5, "sku_d", 10),
        )
    )
    # Then the row holds the three latest products, newest first, the repeated one once
    user = PSEUDONYMS.user("user_1")
    assert [p for p, _, _ in _recent(rows, user)] == ["sku_d", "sku_a", "sku_c"]
    # And it expires TTL after this update
    assert rows.items[session_key(user)]["expiresAt"] == int(NOW.timestamp()) + TTL
    assert outcome.status is SignalStatus.UPDATED
    assert outcome.visitors_written == 1


def test_an_event_with_both_ids_feeds_both_rows_and_searches_feed_none() -> None:
    # Given a logged-in view that also carries the anonymous id, and a search
    rows = MemoryRows()
    _signal(rows).record(
        _records(
            event(1, "sku_a", anonId="anon_1"),
            event(2, None, eventType="search", query="usb"),
        )
    )
    # Then the user's and the anonymous visitor's rows both hold the product, and nothing else
    assert _recent(rows, PSEUDONYMS.user("user_1"))[0][0] == "sku_a"
    assert _recent(rows, PSEUDONYMS.anon("anon_1"))[0][0] == "sku_a"
    assert len(rows.items) == 2


def test_events_of_opted_out_users_feed_no_row() -> None:
    # Given user_1 opted out, and a view by them (with their anonymous id) and one by user_2
    rows = MemoryRows()
    pk, sk = preference_key(PSEUDONYMS.user("user_1"))
    rows.items[(pk, sk)] = {"pk": pk, "sk": sk, "recommendations": False}
    outcome = _signal(rows).record(
        _records(event(1, "sku_a", anonId="anon_1"), event(2, "sku_b", userId="user_2"))
    )
    # Then neither the opted-out user's row nor their anonymous row exists; user_2's does
    assert session_key(PSEUDONYMS.user("user_1")) not in rows.items
    assert session_key(PSEUDONYMS.anon("anon_1")) not in rows.items
    assert session_key(PSEUDONYMS.user("user_2")) in rows.items
    assert outcome.opted_out_events == 1


def test_events_of_an_anonymous_id_whose_holder_opted_out_feed_no_row() -> None:
    # Given the holder of anon_1 opted out (with the signed id), and anonymous views by anon_1 and anon_2
    rows = MemoryRows()
    pk, sk = preference_key(PSEUDONYMS.anon("anon_1"))
    rows.items[(pk, sk)] = {"pk": pk, "sk": sk, "recommendations": False}
    outcome = _signal(rows).record(
        _records(
            event(1, "sku_a", userId=None, anonId="anon_1"), event(2, "sku_b", userId=None, anonId="anon_2")
        )
    )
    # Then anon_1 has no session row, anon_2 has one
    assert session_key(PSEUDONYMS.anon("anon_1")) not in rows.items
    assert session_key(PSEUDONYMS.anon("anon_2")) in rows.items
    assert outcome.opted_out_events == 1


def test_events_older_than_the_session_lifetime_are_ignored() -> None:
    # Given only a view from eight days ago / When recorded / Then there is nothing to write
    rows = MemoryRows()
    outcome = _signal(rows).record(_records(event(1, "sku_a", minutes_ago=8 * 24 * 60)))
    assert outcome.status is SignalStatus.NOTHING_TO_DO
    assert rows.items == {}


def test_a_concurrent_writer_is_merged_not_overwritten() -> None:
    # Given another request that writes the same row between our read and our write
    rows = MemoryRows()
    user = PSEUDONYMS.user("user_1")
    intruded = False

    def concurrent_write(row: Any) -> None:
        nonlocal intruded
        if not intruded:
            intruded = True
            other = session_row(user, [("sku_other", "click", "2026-11-26T11:55:00Z")], 1, 0)
            rows.items[session_key(user)] = other

    rows.before_write = concurrent_write
    # When this request records its view
    outcome = _signal(rows).record(_records(event(1, "sku_mine", 1)))
    # Then its write is retried on the new row, and both products are kept
    assert [p for p, _, _ in _recent(rows, user)] == ["sku_mine", "sku_other"]
    assert rows.items[session_key(user)]["ver"] == 2
    assert outcome.status is SignalStatus.UPDATED
    assert outcome.conflicts == 1


def test_endless_conflicts_give_up_as_partial() -> None:
    # Given a row that changes before every write attempt
    rows = MemoryRows()
    user = PSEUDONYMS.user("user_1")
    versions = itertools.count(1)

    def always_first(row: Any) -> None:
        n = next(versions)
        rows.items[session_key(user)] = session_row(
            user, [(f"sku_{n}", "view", "2026-11-26T11:00:00Z")], n, 0
        )

    rows.before_write = always_first
    # When recorded / Then it stops after its rounds and says the update is partial
    outcome = _signal(rows).record(_records(event(1, "sku_mine")))
    assert outcome.status is SignalStatus.PARTIAL
    assert outcome.conflicts == 3


def test_a_failing_store_is_reported_not_raised() -> None:
    # Given a throttled state table / When the signal is recorded
    rows = MemoryRows()
    rows.fail = True
    outcome = _signal(rows).record(_records(event(1, "sku_a")))
    # Then the outcome says so and nothing was raised
    assert outcome.status is SignalStatus.FAILED


def test_a_resent_request_writes_nothing() -> None:
    # Given a recorded request
    rows, cache = MemoryRows(), RecordingCache()
    signal = _signal(rows, cache)
    records = _records(event(1, "sku_a", 2), event(2, "sku_b", 1))
    signal.record(records)
    writes = rows.writes
    # When the same request is recorded again (a client retry)
    signal.record(records)
    # Then the row is not written again
    assert rows.writes == writes


def test_written_rows_drop_servings_cached_copy() -> None:
    # Given a view by a user and an anonymous visitor / When recorded
    rows, cache = MemoryRows(), RecordingCache()
    _signal(rows, cache).record(_records(event(1, "sku_a", anonId="anon_1")))
    # Then serving's cached copies of both rows are deleted, so the update shows at once
    assert sorted(cache.deleted) == sorted(
        [session_cache_key(PSEUDONYMS.user("user_1")), session_cache_key(PSEUDONYMS.anon("anon_1"))]
    )


def test_a_damaged_row_is_rewritten() -> None:
    # Given a row whose payload is not valid JSON
    rows = MemoryRows()
    user = PSEUDONYMS.user("user_1")
    pk, sk = session_key(user)
    rows.items[(pk, sk)] = {"pk": pk, "sk": sk, "d": "{broken", "ver": 4}
    # When a view is recorded / Then the row is replaced with the new product
    _signal(rows).record(_records(event(1, "sku_a")))
    assert [p for p, _, _ in _recent(rows, user)] == ["sku_a"]


_entry = st.tuples(
    st.sampled_from(["sku_a", "sku_b", "sku_c", "sku_d"]),
    st.sampled_from(["view", "click", "purchase"]),
    st.integers(0, 600).map(lambda m: (NOW - timedelta(minutes=m)).isoformat().replace("+00:00", "Z")),
)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(a=st.lists(_entry, max_size=8), b=st.lists(_entry, max_size=8), c=st.lists(_entry, max_size=8))
def test_merging_is_commutative_and_idempotent(a: list[Any], b: list[Any], c: list[Any]) -> None:
    # Given three updates to one visitor's row
    oldest = NOW - timedelta(days=7)

    def merge(x: list[Any], y: list[Any]) -> list[Any]:
        return merge_recent(x, y, max_items=3, oldest=oldest)

    # When they land in different orders, or one of them twice
    # Then the row ends up the same
    assert merge(merge(a, b), c) == merge(merge(c, a), b) == merge(merge(merge(a, b), c), b)


def test_a_purchase_then_a_view_of_the_same_product_keeps_the_purchase() -> None:
    # Given a visitor's row holding a purchase of sku_a
    oldest = NOW - timedelta(days=7)
    bought = [("sku_a", "purchase", (NOW - timedelta(minutes=30)).isoformat())]
    # When a later view of sku_a (and of sku_b) is merged in, in either order
    later = [
        ("sku_a", "view", (NOW - timedelta(minutes=5)).isoformat()),
        ("sku_b", "view", (NOW - timedelta(minutes=10)).isoformat()),
    ]
    one = merge_recent(bought, later, max_items=5, oldest=oldest)
    other = merge_recent(later, bought, max_items=5, oldest=oldest)
    # Then the purchase is still there, beside the newer view, newest first
    assert one == other
    assert [(p, e) for p, e, _ in one] == [("sku_a", "view"), ("sku_b", "view"), ("sku_a", "purchase")]


def _capped(rows: MemoryRows, cap: int, now: datetime = NOW) -> SessionSignal:
    return SessionSignal(rows, RecordingCache(), max_items=3, ttl_seconds=TTL, clock=lambda: now, cap=cap)


def _count(rows: MemoryRows, visitor: str) -> tuple[int, int]:
    row = rows.items[session_key(visitor)]
    return int(row["hr"]), int(row["n"])


HOUR = int(NOW.timestamp()) // 3600


def test_events_within_and_at_the_cap_are_admitted_and_counted_in_the_session_row() -> None:
    # Given a cap of 3 events per visitor per hour and a visitor's three events (one a search)
    rows = MemoryRows()
    signal = _capped(rows, 3)
    events = _records(event(1, "sku_a"), event(2, "sku_b"), event(3, None, eventType="search", query="x"))
    # When they are admitted and written
    admission = signal.admit(events)
    outcome = signal.write(admission)
    # Then all three are admitted (at the cap, not over it) and the row counts them for this hour,
    # in the same write as the products and with one read
    assert (len(admission.admitted), admission.over_cap) == (3, 0)
    user = PSEUDONYMS.user("user_1")
    assert _count(rows, user) == (HOUR, 3)
    assert [p for p, _, _ in _recent(rows, user)] == ["sku_b", "sku_a"]
    assert (rows.reads, rows.writes, outcome.status) == (1, 1, SignalStatus.UPDATED)


def test_events_over_the_cap_are_left_out_of_the_admitted_and_the_session() -> None:
    # Given a cap of 3 and a visitor who already sent 2 events this hour
    rows = MemoryRows()
    signal = _capped(rows, 3)
    signal.record(_records(event(1, "sku_a"), event(2, "sku_b")))
    # When three more arrive, with another visitor's event among them
    admission = signal.admit(
        _records(event(3, "sku_c"), event(4, "sku_d"), event(5, "sku_x", userId="user_2"), event(6, "sku_e"))
    )
    signal.write(admission)
    # Then the first fills the cap, the other two of that visitor are over it; the other visitor
    # is unaffected; the dropped products are not in the session and the count stops at the cap
    assert [e["productId"] for e in admission.admitted] == ["sku_c", "sku_x"]
    assert admission.over_cap == 2
    user = PSEUDONYMS.user("user_1")
    assert [p for p, _, _ in _recent(rows, user)] == ["sku_c", "sku_b", "sku_a"]
    assert _count(rows, user) == (HOUR, 3)
    assert _count(rows, PSEUDONYMS.user("user_2")) == (HOUR, 1)


def test_an_event_with_both_ids_needs_room_in_both_rows() -> None:
    # Given a cap of 1, and an anonymous visitor who already sent one event this hour
    rows = MemoryRows()
    signal = _capped(rows, 1)
    signal.record(_records(event(1, "sku_a", userId=None, anonId="anon_1")))
    # When the same browser sends an event carrying its user id too
    admission = signal.admit(_records(event(2, "sku_b", anonId="anon_1")))
    # Then it is over the cap (its anonymous id has no room left)
    assert (admission.admitted, admission.over_cap) == ([], 1)


def test_the_count_starts_over_when_the_clock_hour_rolls_over() -> None:
    # Given a cap of 2 reached at 12:59
    rows = MemoryRows()
    before = NOW + timedelta(minutes=59)
    _capped(rows, 2, before).record(_records(event(1, "sku_a"), event(2, "sku_b")))
    assert _capped(rows, 2, before).admit(_records(event(3, "sku_c"))).over_cap == 1
    # When the visitor sends two more at 13:00
    after = NOW + timedelta(hours=1)
    signal = _capped(rows, 2, after)
    admission = signal.admit(_records(event(4, "sku_d", 0), event(5, "sku_e", 0)))
    signal.write(admission)
    # Then both are admitted and the row counts them for the new hour
    assert (len(admission.admitted), admission.over_cap) == (2, 0)
    assert _count(rows, PSEUDONYMS.user("user_1")) == (HOUR + 1, 2)


def test_a_cap_of_zero_admits_everything_and_counts_nothing() -> None:
    # Given no cap (0) and many events of one visitor
    rows = MemoryRows()
    signal = _capped(rows, 0)
    events = _records(*(event(n, f"sku_{n}") for n in range(50)))
    # When they are admitted and written
    admission = signal.admit(events)
    signal.write(admission)
    # Then every event is admitted and the row is today's row, without a count
    assert (len(admission.admitted), admission.over_cap) == (50, 0)
    assert "n" not in rows.items[session_key(PSEUDONYMS.user("user_1"))]


def test_a_search_only_batch_costs_no_call_with_the_cap_off() -> None:
    # Given no cap, and a batch of searches (no product for the session)
    rows = MemoryRows()
    # When it is admitted and written
    signal = _capped(rows, 0)
    signal.write(signal.admit(_records(event(1, None, eventType="search", query="x"))))
    # Then the state table was not touched, as before the cap existed
    assert (rows.reads, rows.writes) == (0, 0)


def test_a_concurrent_writer_s_count_is_added_to_not_overwritten() -> None:
    # Given a cap of 10, and another request for the same visitor that lands 4 events between
    # this request's read and its write
    rows = MemoryRows()
    signal = _capped(rows, 10)
    user = PSEUDONYMS.user("user_1")
    admission = signal.admit(_records(event(1, "sku_a"), event(2, "sku_b")))
    rows.items[session_key(user)] = session_row(user, [], 1, 0, (HOUR, 4))
    # When this request writes
    outcome = signal.write(admission)
    # Then it lost the race once, re-read the row and added its 2 to the other's 4
    assert outcome.conflicts == 1
    assert _count(rows, user) == (HOUR, 6)


def test_a_store_fault_admits_every_event_fail_open() -> None:
    # Given a cap of 1 and a state table that fails
    rows = MemoryRows()
    rows.fail = True
    signal = _capped(rows, 1)
    # When three events of one visitor arrive
    admission = signal.admit(_records(event(1, "sku_a"), event(2, "sku_b"), event(3, "sku_c")))
    # Then all are admitted (the lake must not lose shoppers' events) and the signal reports failure
    assert (len(admission.admitted), admission.over_cap) == (3, 0)
    assert signal.write(admission).status is SignalStatus.FAILED
