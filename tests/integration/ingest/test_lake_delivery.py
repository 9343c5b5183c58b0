"""Valid events land in the lake exactly once, pseudonymous and free of personal data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from recs.contracts.events import LakeEvent
from recs.pseudonyms import Pseudonymizer
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from recs_tools.synthetic import PII_FIELDS, build_config, generate_shop, iter_batches
from tests.helpers import body_of, load_event
from tests.integration.ingest.lake import lake_objects, lake_records, post

EVENT_TYPE_SAMPLES = {
    "ingest_view": "view",
    "ingest_click": "click",
    "ingest_add_to_cart": "add_to_cart",
    "ingest_purchase": "purchase",
    "ingest_search": "search",
    "ingest_search_result_click": "search_result_click",
    "ingest_anonymous_view": "view",
    "ingest_beacon_text_plain": "view",
}


@pytest.mark.parametrize(("sample", "event_type"), EVENT_TYPE_SAMPLES.items())
def test_each_event_type_lands_in_the_lake_once(stack: LocalStack, sample: str, event_type: str) -> None:
    # Given a sample request of one event type / When the ingest function handles it
    request = load_event(sample)
    response = stack.invoke("IngestFunction", request)
    # Then it is accepted and exactly that event is in the lake, as a valid lake record
    assert response["statusCode"] == 202
    assert body_of(response) == {
        "accepted": 1,
        "rejectedCount": 0,
        "rejected": [],
        "sampledOut": 0,
        "overCap": 0,
    }
    (record,) = lake_records(stack)
    assert record["eventType"] == event_type
    assert record["eventId"] == json.loads(request["body"])["eventId"]
    LakeEvent.model_validate(record)


def test_a_mixed_batch_stores_the_valid_events_and_lists_the_others(stack: LocalStack) -> None:
    # Given the sample batch of two valid and two invalid events / When handled
    response = stack.invoke("IngestFunction", load_event("ingest_mixed_batch"))
    # Then it is a 202 whose body counts the accepted events and explains each rejected one
    assert response["statusCode"] == 202
    body = body_of(response)
    assert (body["accepted"], body["rejectedCount"]) == (2, 2)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "eventType"), (2, "productId")]
    # And exactly the valid events are in the lake
    assert sorted(r["eventId"][-2:] for r in lake_records(stack)) == ["20", "23"]


def test_no_raw_id_or_personal_data_reaches_any_lake_object(stack: LocalStack) -> None:
    # Given the sample with PII in unknown fields and in free text / When handled
    response = stack.invoke("IngestFunction", load_event("ingest_with_pii"))
    assert body_of(response)["accepted"] == 2
    # Then no lake object holds a raw id or any of the personal values
    forbidden = [
        "user_000001",
        "sess_sample_1",
        "jane.doe@example.com",
        "john.roe@example.org",
        "Jane Doe",
        "555",
        "12 Main Street",
        "203.0.113.7",
        "198.51.100.23",
        '"email"',
        '"name"',
        '"phone"',
        '"address"',
        '"ip"',
    ]
    for key, data in lake_objects(stack).items():
        text = data.decode("utf-8")
        assert not [value for value in forbidden if value in text], key


def test_ids_become_the_same_pseudonyms_across_requests(stack: LocalStack) -> None:
    # Given two requests about the same user and anonymous visitor
    stack.invoke("IngestFunction", load_event("ingest_view"))
    stack.invoke("IngestFunction", load_event("ingest_anonymous_view"))
    stack.invoke("IngestFunction", load_event("ingest_batch"))
    # Then every record of user_000001 carries the same pseudonym: the keyed hash under the
    # secret the stack seeded in Secrets Manager
    pseudonyms = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
    records = lake_records(stack)
    assert {r["userId"] for r in records if "userId" in r} == {pseudonyms.user("user_000001")}
    assert {r["anonId"] for r in records if "anonId" in r} == {
        pseudonyms.anon("anon_sample_1"),
        pseudonyms.anon("anon_sample_2"),
    }


def test_a_synthetic_shop_lands_whole_and_clean(stack: LocalStack) -> None:
    # Given a small synthetic shop's events, with re-sent duplicates and injected PII
    now = datetime.now(UTC).replace(microsecond=0)
    shop = generate_shop(build_config("test", seed=5, now=now, duplicate_fraction=0.02, pii_fraction=0.05))
    sent = 0
    # When they are posted in batches of 500
    for batch in iter_batches(shop.events, size=500):
        response = post(stack, {"events": batch})
        assert response["statusCode"] == 202
        assert body_of(response)["rejectedCount"] == 0
        sent += len(batch)
    # Then the lake holds one record per event sent
    records = lake_records(stack)
    assert len(records) == sent
    # And no lake object holds a raw user, anonymous or session id, or any injected personal value
    raw_ids = set(shop.users) | set(shop.anonymous_ids) | {str(e["sessionId"]) for e in shop.events}
    personal = {str(e[f]) for e in shop.events for f in PII_FIELDS if f in e}
    assert personal, "the shop injects PII"
    leaks = re.compile("|".join(re.escape(v) for v in sorted(raw_ids | personal)))
    for key, data in lake_objects(stack).items():
        text = data.decode("utf-8")
        assert leaks.search(text) is None, key
        assert not any(set(PII_FIELDS) & set(json.loads(line)) for line in text.splitlines())
