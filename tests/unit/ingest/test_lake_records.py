"""What reaches the lake: pseudonymous ids, scrubbed text, known fields only, one JSON line each."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pydantic import TypeAdapter

from recs.adapters.firehose import MAX_BYTES_PER_RECORD
from recs.contracts.events import FREE_TEXT_FIELDS, LakeEvent, LakeRecord, ShopEvent
from recs.ingest.lake_records import encode_lines, to_lake_records
from recs.pseudonyms import Pseudonymizer

KEY = b"unit-test-pseudonym-key-0123456789"
RECEIVED = datetime(2026, 11, 26, 12, 0, 5, tzinfo=UTC)
_EVENTS = TypeAdapter(list[ShopEvent])


def _wire(n: int, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventId": f"ABCDEF00-0000-4000-8000-{n:012d}",
        "eventType": "add_to_cart",
        "timestamp": "2026-11-26T13:59:00+02:00",
        "userId": "user_000042",
        "anonId": "anon_abc",
        "sessionId": "sess_1",
        "productId": "sku_1",
        "category": "toys",
        "quantity": 2,
        "price": 9.5,
        "context": "cart",
        "recommendationId": "rec_1",
    }
    base.update(fields)
    return base


def _lines(*wire: dict[str, Any], key: bytes = KEY) -> list[dict[str, Any]]:
    records = to_lake_records(_EVENTS.validate_python(list(wire)), Pseudonymizer(key), RECEIVED)
    return [json.loads(line) for line in encode_lines(records)]


def test_ids_become_pseudonyms_the_same_for_the_same_raw_id() -> None:
    # Given two events of the same user, anonymous id and session
    first, second = _lines(_wire(1), _wire(2))
    pseudonyms = Pseudonymizer(KEY)
    # Then each id is its keyed-hash pseudonym, identical across events
    assert first["userId"] == second["userId"] == pseudonyms.user("user_000042")
    assert first["anonId"] == pseudonyms.anon("anon_abc")
    assert first["sessionId"] == pseudonyms.session("sess_1")
    # And no raw id is left anywhere in the record
    text = json.dumps(first)
    assert "user_000042" not in text
    assert "anon_abc" not in text
    assert "sess_1" not in text


def test_another_key_gives_other_pseudonyms() -> None:
    # Given the same event pseudonymized under two keys
    (one,) = _lines(_wire(1))
    (other,) = _lines(_wire(1), key=b"another-key-for-the-same-test-000000")
    # Then the pseudonyms differ (they depend on the secret, not only on the id)
    assert one["userId"] != other["userId"]


def test_unknown_fields_never_reach_the_lake() -> None:
    # Given an event carrying personal data in fields the schema does not know
    pii = {
        "email": "jane@example.com",
        "name": "Jane Doe",
        "phone": "+1 555 0100",
        "address": "1 Main St",
        "ip": "203.0.113.9",
    }
    (record,) = _lines(_wire(1, **pii))
    # Then none of those fields or values is stored
    assert not set(pii) & set(record)
    assert not any(value in json.dumps(record) for value in pii.values())


def test_every_free_text_field_is_scrubbed() -> None:
    # Given contact data in each free-text field
    values = {name: f"x jane.doe@example.com {i} +1 555 0199 y" for i, name in enumerate(FREE_TEXT_FIELDS)}
    (record,) = _lines(_wire(1, **values))
    # Then none of it remains, while the rest of the text does
    for name in FREE_TEXT_FIELDS:
        assert "@" not in record[name]
        assert "555" not in record[name]
        assert record[name].startswith("x ")
        assert record[name].endswith(" y")


def test_free_text_fields_are_exactly_the_unpatterned_strings() -> None:
    # Given the event model / Then every string field without an id pattern is declared free text,
    # so a new free-text field cannot slip past the scrubber unnoticed
    schema = ShopEvent.model_json_schema()["properties"]
    unpatterned = {
        name
        for name, prop in schema.items()
        for option in prop.get("anyOf", [prop])
        if option.get("type") == "string" and "pattern" not in option and "format" not in option
    }
    assert unpatterned == set(FREE_TEXT_FIELDS)


def test_records_are_normalized_and_stamped() -> None:
    # Given an event with an upper-case id and a +02:00 timestamp
    (record,) = _lines(_wire(7))
    # Then the id is lower case, the time UTC, and arrival time and schema version are added
    assert record["eventId"] == "abcdef00-0000-4000-8000-000000000007"
    assert record["timestamp"] == "2026-11-26T11:59:00Z"
    assert record["receivedAt"] == "2026-11-26T12:00:05Z"
    assert record["schemaVersion"] == 1


def test_every_line_is_one_valid_lake_event() -> None:
    # Given events of every shape, absent fields included
    wire = [
        _wire(1),
        _wire(2, anonId=None, sessionId=None, category=None, quantity=None, price=None),
        _wire(3, eventType="search", productId=None, query="usb", results=["a", "b"], userId=None),
    ]
    records = to_lake_records(_EVENTS.validate_python(wire), Pseudonymizer(KEY), RECEIVED)
    lines = encode_lines(records)
    # Then each line is newline-terminated compact JSON that validates as a LakeEvent, with no nulls
    for line in lines:
        assert line.endswith(b"\n")
        assert line.count(b"\n") == 1
        LakeEvent.model_validate_json(line)
        assert b"null" not in line


def test_the_lake_record_dict_declares_the_lake_event_fields() -> None:
    # Given the hot path's TypedDict and the documented model / Then they name the same fields
    assert set(typing.get_type_hints(LakeRecord)) == set(LakeEvent.model_fields)


def test_the_largest_valid_event_fits_one_firehose_record() -> None:
    # Given an event with every field at its maximum size
    big = _wire(
        1,
        userId="u" * 128,
        anonId="a" * 128,
        sessionId="s" * 128,
        productId="p" * 128,
        recommendationId="r" * 128,
        category="c" * 128,
        context="x" * 64,
        query="q" * 512,
        results=["i" * 128] * 200,
    )
    (line,) = encode_lines(to_lake_records(_EVENTS.validate_python([big]), Pseudonymizer(KEY), RECEIVED))
    # Then its line is far below Firehose's per-record limit, so no valid event can be refused
    assert len(line) < MAX_BYTES_PER_RECORD / 10


def test_timestamps_keep_their_instant() -> None:
    # Given the same instant written in two zones
    zone = timezone(timedelta(hours=-5))
    instant = datetime(2026, 11, 26, 6, 59, tzinfo=zone)
    a, b = _lines(_wire(1, timestamp=instant.isoformat()), _wire(2, timestamp="2026-11-26T11:59:00Z"))
    # Then both are stored as the same UTC time
    assert a["timestamp"] == b["timestamp"] == "2026-11-26T11:59:00Z"
