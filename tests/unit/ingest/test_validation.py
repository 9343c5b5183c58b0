"""Event-level validation: valid events go on in order, each invalid one gets index, field and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from recs.ingest.validation import MAX_REASONS_PER_EVENT, TimeWindow, check_events

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(max_age=timedelta(days=90), max_future=timedelta(minutes=5))


def event(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": "2026-11-26T11:59:00Z",
        "userId": "user_1",
        "productId": "sku_1",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_a_mixed_batch_keeps_valid_events_in_order_and_explains_the_rest() -> None:
    # Given valid events around invalid ones
    raw = [
        event(0),
        event(1, eventType="teleport"),
        event(2, productId=None),
        "not an object",
        event(4, userId=None),
        event(5, productId="sku_5"),
    ]
    # When checked
    checked = check_events(raw, NOW, WINDOW)
    # Then the valid ones come back in request order
    assert [e.eventId[-1] for e in checked.valid] == ["0", "5"]
    # And each invalid one has its index, field and a machine-readable code
    assert [(r.index, r.field, r.code) for r in checked.rejections] == [
        (1, "eventType", "enum"),
        (2, "productId", "missing_for_event_type"),
        (3, "event", "not_an_object"),
        (4, "userId", "missing_visitor"),
    ]
    assert checked.rejected_count == 4
    assert checked.received == 6


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"eventId": "123"}, "eventId", "string_pattern_mismatch"),
        ({"eventId": None}, "eventId", "missing"),
        ({"timestamp": "2026-11-26T11:59:00"}, "timestamp", "timezone_aware"),
        ({"timestamp": "yesterday"}, "timestamp", "datetime_from_date_parsing"),
        ({"userId": "jane.doe@example.com"}, "userId", "string_pattern_mismatch"),
        ({"productId": "sku 1"}, "productId", "string_pattern_mismatch"),
        ({"quantity": 0}, "quantity", "greater_than_equal"),
        ({"price": -1}, "price", "greater_than_equal"),
        ({"price": "NaN"}, "price", "finite_number"),
        ({"category": ""}, "category", "string_too_short"),
        ({"context": "x" * 65}, "context", "string_too_long"),
        ({"query": "q" * 513}, "query", "string_too_long"),
        ({"results": ["ok", "not ok"]}, "results.1", "string_pattern_mismatch"),
        ({"results": ["sku"] * 201}, "results", "too_long"),
        ({"eventType": "search_result_click", "productId": None}, "productId", "missing_for_event_type"),
    ],
)
def test_each_invalid_field_is_named(fields: dict[str, Any], field: str, code: str) -> None:
    # Given one event with one bad field / When checked
    checked = check_events([event(1, **fields)], NOW, WINDOW)
    # Then it is rejected naming that field
    assert checked.valid == []
    assert [(r.index, r.field, r.code) for r in checked.rejections] == [(0, field, code)]
    assert checked.rejections[0].reason


def test_a_search_needs_no_product_and_a_missing_field_reads_is_required() -> None:
    # Given a search without a product, and a view without a timestamp
    checked = check_events(
        [event(1, eventType="search", productId=None), event(2, timestamp=None)], NOW, WINDOW
    )
    # Then the search is valid and the view's reason is "is required"
    assert [e.eventType.value for e in checked.valid] == ["search"]
    assert [(r.field, r.reason) for r in checked.rejections] == [("timestamp", "is required")]


@pytest.mark.parametrize(
    ("timestamp", "code"),
    [
        (NOW + timedelta(minutes=5, seconds=1), "timestamp_in_future"),
        (NOW + timedelta(days=365 * 70), "timestamp_in_future"),
        (NOW - timedelta(days=90, seconds=1), "timestamp_too_old"),
        (datetime(2001, 1, 1, tzinfo=UTC), "timestamp_too_old"),
    ],
)
def test_timestamps_outside_the_window_are_rejected(timestamp: datetime, code: str) -> None:
    # Given an event too far in the future or older than the retention window
    raw = [event(1, timestamp=timestamp.isoformat())]
    # When checked / Then it is rejected on `timestamp` with its own code
    checked = check_events(raw, NOW, WINDOW)
    assert [(r.field, r.code) for r in checked.rejections] == [("timestamp", code)]


@pytest.mark.parametrize(
    "timestamp",
    [
        NOW + timedelta(minutes=5),
        NOW - timedelta(days=90),
        NOW.astimezone(ZoneInfo("America/New_York")),
    ],
)
def test_timestamps_at_the_edges_and_in_any_zone_are_accepted(timestamp: datetime) -> None:
    # Given an event exactly at an edge of the window, or in another zone
    checked = check_events([event(1, timestamp=timestamp.isoformat())], NOW, WINDOW)
    # Then it is valid
    assert len(checked.valid) == 1
    assert checked.rejections == []


def test_reasons_are_capped_per_event() -> None:
    # Given an event with every field wrong
    bad = {
        "eventId": 1,
        "eventType": 2,
        "timestamp": 3,
        "userId": 4,
        "anonId": 5,
        "sessionId": 6,
        "productId": 7,
        "quantity": "x",
    }
    # When checked / Then at most MAX_REASONS_PER_EVENT reasons are given, for one event
    checked = check_events([bad], NOW, WINDOW)
    assert len(checked.rejections) == MAX_REASONS_PER_EVENT
    assert checked.rejected_count == 1


def test_unknown_fields_are_ignored_not_rejected() -> None:
    # Given an event with extra fields (where PII would travel)
    checked = check_events([event(1, email="jane@example.com", ip="203.0.113.9")], NOW, WINDOW)
    # Then it is valid and the extra fields are not part of it
    assert checked.rejections == []
    assert "email" not in checked.valid[0].model_dump()
