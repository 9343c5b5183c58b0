"""Sampling rules at ingest: one in N events of a sampled type reaches the lake, chosen by its
eventId and stamped with N; every valid event still feeds the live session; a tracker declaring
another rate is refused event by event."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from recs.config.ingest import IngestSettings
from recs.contracts.events import EventType
from recs.ingest.payload import IngestRequest
from recs.ingest.sampling import SamplingRules, fnv1a_32, in_sample, sampled
from recs.ingest.service import IngestService
from tests.unit.ingest.fakes import MemoryRows, MemorySink
from tests.unit.ingest.test_service import _service, event

VIEWS_ONE_IN_4 = SamplingRules({EventType.VIEW: 4})


def service(sink: MemorySink, rows: MemoryRows, rules: SamplingRules) -> IngestService:
    return _service(sink, rows, rules, max_items=200)


def post(body: object) -> IngestRequest:
    return IngestRequest(content_type="application/json", body=json.dumps(body).encode())


def test_fnv1a_matches_the_published_test_vectors() -> None:
    # Given the FNV-1a 32-bit reference values / Then ours agree (the tracker computes the same)
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C
    assert fnv1a_32("foobar") == 0xBF9CF968


def test_the_sample_is_decided_by_the_event_id_alone_and_keeps_about_one_in_n() -> None:
    # Given 4,000 distinct event ids
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(4000)]
    # When each is tested against one in 4, twice and in upper case
    kept = [i for i in ids if in_sample(i, 4)]
    # Then the choice repeats and ignores case, and keeps close to a quarter
    assert kept == [i for i in ids if in_sample(i.upper(), 4)]
    assert 900 <= len(kept) <= 1100
    assert all(in_sample(i, 1) for i in ids)


@pytest.mark.parametrize(
    ("rules", "message"),
    [({EventType.PURCHASE: 2}, "purchase events cannot be sampled"), ({EventType.VIEW: 0}, "N must be 1 to")],
)
def test_a_rule_on_a_strong_signal_or_outside_1_to_1000_is_refused(
    rules: dict[EventType, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingRules(rules)


def test_the_settings_read_the_rules_from_json_and_name_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the ingest function's environment with a rule
    for key, value in {
        "DELIVERY_STREAM_NAME": "events",
        "STATE_TABLE_NAME": "state",
        "PSEUDONYM_SECRET_ID": "secret",
        "CACHE_URL": "",
        "AUTH_ISSUER_URL": "",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SAMPLING_RULES", '{"view": 4, "search": 2}')
    # Then the settings carry it
    assert IngestSettings().sampling() == SamplingRules({EventType.VIEW: 4, EventType.SEARCH: 2})
    # And a rule on purchases fails the cold start, naming the setting
    monkeypatch.setenv("SAMPLING_RULES", '{"purchase": 2}')
    with pytest.raises(ValidationError, match="sampling_rules"):
        IngestSettings()


def test_one_in_n_views_reaches_the_lake_stamped_and_every_view_feeds_the_session() -> None:
    # Given one view in four sampled, and a batch of 40 views and 5 purchases of one shopper
    sink, rows = MemorySink(), MemoryRows()
    views = [event(n, anonId="anon_1", userId=None) for n in range(40)]
    purchases = [event(100 + n, eventType="purchase", anonId="anon_1", userId=None) for n in range(5)]
    # When it is posted
    result = service(sink, rows, VIEWS_ONE_IN_4).ingest(post({"events": views + purchases}))
    # Then the lake has the views the rule keeps, each stamped 4, and every purchase, unstamped
    lake = [json.loads(line) for line in sink.lines]
    stored_views = [r for r in lake if r["eventType"] == "view"]
    expected = [v["eventId"] for v in views if in_sample(v["eventId"], 4)]
    assert [r["eventId"] for r in stored_views] == expected
    assert 0 < len(expected) < 40
    assert {r["sampleRate"] for r in stored_views} == {4}
    assert [r for r in lake if r["eventType"] == "purchase" and "sampleRate" not in r] == [
        r for r in lake if r["eventType"] == "purchase"
    ]
    # And the answer counts every valid event as accepted, and says how many the lake left out
    response = result.response()
    assert response.accepted == 45
    assert response.sampledOut == 40 - len(expected)
    # And the live session saw every product viewed, kept or not
    (session,) = rows.items.values()
    recent = {entry[0] for entry in json.loads(session["d"])}
    assert {f"sku_{n}" for n in range(40)} <= recent


def test_a_declared_rate_other_than_the_shops_is_refused_naming_the_field() -> None:
    # Given a tracker declaring one in 2 while the shop keeps one in 4, and one declaring the right rate
    sink = MemorySink()
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(100)]
    kept = [i for i in ids if in_sample(i, 4)]
    wrong = {**event(1), "eventId": kept[0], "sampleRate": 2}
    right = {**event(2), "eventId": kept[1], "sampleRate": 4}
    # When both are posted
    result = service(sink, MemoryRows(), VIEWS_ONE_IN_4).ingest(post({"events": [wrong, right]}))
    # Then the wrong one is rejected on sampleRate; the right one is stored with its rate
    (rejection,) = result.rejections
    assert (rejection.index, rejection.field, rejection.code) == (0, "sampleRate", "sample_rate_mismatch")
    assert "one in 4 view events" in rejection.reason
    assert [(r["eventId"], r["sampleRate"]) for r in map(json.loads, sink.lines)] == [(kept[1], 4)]


def test_without_rules_nothing_changes() -> None:
    # Given no rule / When records are sampled / Then every one is kept as it was
    records = [{"eventId": f"e{n}", "eventType": EventType.VIEW} for n in range(10)]
    assert sampled(records, SamplingRules()) is records  # type: ignore[arg-type]
