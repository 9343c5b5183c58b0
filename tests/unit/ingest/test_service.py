"""The ingest service: valid events are delivered before anything else, and only they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recs.contracts.events import EventType
from recs.errors import DeliveryError, InvalidRequestError
from recs.ingest.errors import NoValidEventsError
from recs.ingest.payload import IngestRequest
from recs.ingest.sampling import SamplingRules
from recs.ingest.service import IngestService
from recs.ingest.session_signal import SessionSignal, SignalStatus
from recs.ingest.validation import TimeWindow
from recs.pseudonyms import Pseudonymizer
from tests.unit.ingest.fakes import MemoryRows, MemorySink, RecordingCache

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def event(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": "2026-11-26T11:59:00Z",
        "userId": "user_1",
        "productId": f"sku_{n}",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def clock() -> datetime:
    return NOW


def _service(
    sink: MemorySink,
    rows: MemoryRows | None = None,
    sampling: SamplingRules | None = None,
    max_items: int = 20,
    cap: int = 0,
) -> IngestService:
    signal = SessionSignal(
        rows or MemoryRows(), RecordingCache(), max_items=max_items, ttl_seconds=3600, clock=clock, cap=cap
    )
    return IngestService(
        sink,
        Pseudonymizer(b"unit-test-pseudonym-key-0123456789"),
        signal,
        window=TimeWindow(max_age=timedelta(days=90), max_future=timedelta(minutes=5)),
        max_body_bytes=1_000_000,
        clock=clock,
        sampling=sampling,
    )


def _post(body: Any) -> IngestRequest:
    return IngestRequest(content_type="application/json", body=json.dumps(body).encode())


def test_a_mixed_batch_stores_exactly_the_valid_events() -> None:
    # Given a batch with three valid and two invalid events
    sink = MemorySink()
    body = {"events": [event(0), event(1, productId=None), event(2), event(3, eventType="x"), event(4)]}
    # When ingested
    result = _service(sink).ingest(_post(body))
    # Then the three valid events are in the sink, once each, and the answer lists the other two
    stored = [json.loads(line)["eventId"][-1] for line in sink.lines]
    assert stored == ["0", "2", "4"]
    response = result.response()
    assert (response.accepted, response.rejectedCount) == (3, 2)
    assert [(r.index, r.field) for r in response.rejected] == [(1, "productId"), (3, "eventType")]


def test_nothing_valid_stores_nothing_and_lists_every_event() -> None:
    # Given a batch in which no event is valid
    sink = MemorySink()
    body = {"events": [event(0, userId=None), event(1, timestamp="2099-01-01T00:00:00Z")]}
    # When ingested / Then it is refused, nothing stored, each event explained with its index
    with pytest.raises(NoValidEventsError) as raised:
        _service(sink).ingest(_post(body))
    assert sink.lines == []
    assert [(r.index, r.field) for r in raised.value.rejections] == [(0, "userId"), (1, "timestamp")]
    assert raised.value.fields == {
        "events[0].userId": "one of userId or anonId is required",
        "events[1].timestamp": "is more than 300 seconds in the future",
    }


def test_a_single_invalid_event_names_its_field_plainly() -> None:
    # Given one event without a product / When ingested / Then the 400 names `productId`
    with pytest.raises(NoValidEventsError) as raised:
        _service(MemorySink()).ingest(_post(event(0, productId=None)))
    assert list(raised.value.fields) == ["productId"]


def test_an_unusable_request_stores_nothing() -> None:
    # Given a request with 501 events / When ingested / Then 413 and nothing stored
    sink = MemorySink()
    with pytest.raises(InvalidRequestError) as raised:
        _service(sink).ingest(_post({"events": [event(i) for i in range(501)]}))
    assert raised.value.status == 413
    assert sink.lines == []


def test_undelivered_events_fail_the_request_and_skip_the_session_signal() -> None:
    # Given a lake that cannot take events
    rows = MemoryRows()
    # When a valid event is ingested / Then delivery fails loudly (the API answers 503)
    with pytest.raises(DeliveryError):
        _service(MemorySink(fail=True), rows).ingest(_post(event(0)))
    # And the session signal was not touched for events the lake does not have
    assert rows.reads == 0
    assert rows.items == {}


def test_a_failing_session_signal_does_not_fail_the_request() -> None:
    # Given a throttled state table
    sink, rows = MemorySink(), MemoryRows()
    rows.fail = True
    # When events are ingested
    result = _service(sink, rows).ingest(_post({"events": [event(0), event(1)]}))
    # Then they are delivered and accepted, and the failure is reported in the result
    assert len(sink.lines) == 2
    assert result.accepted == 2
    assert result.session.status is SignalStatus.FAILED


def test_events_over_the_visitor_cap_are_not_delivered_and_are_counted() -> None:
    # Given a cap of 2 events per visitor per hour, sampling one view in 2, and a batch of four
    # views by user_1 and one by user_2
    sink = MemorySink()
    service = _service(sink, cap=2, sampling=SamplingRules({EventType.VIEW: 2}))
    body = {"events": [event(n) for n in range(4)] + [event(9, userId="user_2")]}
    # When ingested
    response = service.ingest(_post(body)).response()
    # Then user_1's last two are left out of the lake and counted; user_2's is unaffected; they are
    # accepted (valid), and sampling applies to the admitted ones only
    stored = {json.loads(line)["eventId"][-1] for line in sink.lines}
    assert stored <= {"0", "1", "9"}
    assert (response.accepted, response.rejectedCount, response.overCap) == (5, 0, 2)
    assert response.sampledOut == 3 - len(stored)


def test_with_the_state_table_down_the_cap_fails_open_and_the_lake_gets_every_event() -> None:
    # Given a cap of 1 and a state table that fails
    sink, rows = MemorySink(), MemoryRows()
    rows.fail = True
    # When a visitor's three events are ingested
    result = _service(sink, rows, cap=1).ingest(_post({"events": [event(n) for n in range(3)]}))
    # Then all three are in the lake, none counted over the cap, and the signal reports the fault
    assert len(sink.lines) == 3
    assert result.over_cap == 0
    assert result.session.status is SignalStatus.FAILED


def test_a_failed_delivery_counts_nothing_so_the_resent_request_is_not_capped() -> None:
    # Given a cap of 3, and a first attempt of three events whose delivery fails (503)
    rows = MemoryRows()
    events = {"events": [event(n) for n in range(3)]}
    with pytest.raises(DeliveryError):
        _service(MemorySink(fail=True), rows, cap=3).ingest(_post(events))
    # When the client sends the same request again
    sink = MemorySink()
    result = _service(sink, rows, cap=3).ingest(_post(events))
    # Then every event reaches the lake: the count is written only after delivery
    assert (len(sink.lines), result.over_cap) == (3, 0)
