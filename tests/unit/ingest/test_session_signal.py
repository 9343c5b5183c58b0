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
