"""The live session signal in the real state table: written, bounded, opt-out aware, fault tolerant."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from recs.config.ingest import IngestSettings
from recs.pseudonyms import Pseudonymizer
from recs.store_layout import iso, session_cache_key, session_key, session_row
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from tests.helpers import body_of, load_event
from tests.integration.ingest.lake import (
    concurrent_session_write,
    dynamodb_throttled,
    lake_records,
    post,
)

PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
#: Recent products a visitor's row keeps (the ingest function's default).
KEPT = int(IngestSettings.model_fields["session_max_items"].default)


def _row(stack: LocalStack, visitor_pseudonym: str) -> dict[str, Any] | None:
    pk, sk = session_key(visitor_pseudonym)
    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.physical["StateTable"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
        .get("Item")
    )
    return {k: next(iter(v.values())) for k, v in item.items()} if item else None


def _products(stack: LocalStack, visitor_pseudonym: str) -> list[str]:
    row = _row(stack, visitor_pseudonym)
    return [p for p, _, _ in json.loads(row["d"])] if row else []


def _view(n: int, product: str, minutes_ago: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(),
        "userId": "user_000001",
        "productId": product,
        **fields,
    }


def test_views_feed_a_bounded_expiring_row_keyed_by_pseudonym(stack: LocalStack) -> None:
    # Given five views more than the row keeps, by one user
    views = KEPT + 5
    post(stack, {"events": [_view(i, f"sku_{i:05d}", minutes_ago=views + 5 - i) for i in range(views)]})
    # Then their row, keyed by pseudonym, holds the latest products it keeps, newest first
    user = PSEUDONYMS.user("user_000001")
    assert _products(stack, user) == [f"sku_{i:05d}" for i in range(views - 1, 4, -1)]
    # And it expires with the session TTL, and no raw id is stored in the state table
    row = _row(stack, user)
    assert row is not None
    assert int(row["expiresAt"]) > datetime.now(UTC).timestamp() + 6 * 86_400
    items = stack.client("dynamodb").scan(TableName=stack.physical["StateTable"])["Items"]
    assert "user_000001" not in json.dumps(items)


def test_events_of_an_opted_out_user_do_not_feed_it(stack: LocalStack) -> None:
    # Given user_000001 opted out through the privacy API
    assert stack.invoke("PrivacyFunction", load_event("privacy_opt_out"))["statusCode"] == 200
    # When they view a product while also carrying an anonymous id, and another user views one
    response = post(
        stack, {"events": [_view(1, "sku_a", anonId="anon_x"), _view(2, "sku_b", userId="user_000002")]}
    )
    # Then both events are in the lake, but only the other user's session row holds products
    # (the opted-out user's and its anonymous id's rows hold only the per-visitor cap's count)
    assert body_of(response)["accepted"] == 2
    assert len(lake_records(stack)) == 2
    for visitor in (PSEUDONYMS.user("user_000001"), PSEUDONYMS.anon("anon_x")):
        row = _row(stack, visitor)
        assert row is None or (json.loads(row["d"]) == [] and int(row["n"]) == 1)
    assert _products(stack, PSEUDONYMS.user("user_000002")) == ["sku_b"]


def test_a_throttled_state_table_neither_fails_the_request_nor_loses_events(stack: LocalStack) -> None:
    # Given a state table that throttles every read and write
    with dynamodb_throttled():
        # When events are posted
        response = post(stack, {"events": [_view(1, "sku_a"), _view(2, "sku_b")]})
    # Then the request succeeds and the lake has the events; only the convenience signal is missing
    assert response["statusCode"] == 202
    assert body_of(response)["accepted"] == 2
    assert sorted(r["productId"] for r in lake_records(stack)) == ["sku_a", "sku_b"]
    assert _row(stack, PSEUDONYMS.user("user_000001")) is None


def test_throttled_writes_alone_are_survived_too(stack: LocalStack) -> None:
    # Given a state table whose reads work but whose writes are throttled
    with dynamodb_throttled(reads=False, writes=True):
        response = post(stack, _view(1, "sku_a"))
    # Then the request still succeeds with the event in the lake, only the row is missing
    assert response["statusCode"] == 202
    assert [r["productId"] for r in lake_records(stack)] == ["sku_a"]
    assert _row(stack, PSEUDONYMS.user("user_000001")) is None


def test_a_concurrent_update_of_the_same_row_is_merged(stack: LocalStack) -> None:
    # Given another request that updates this visitor's row while this one is in flight
    user = PSEUDONYMS.user("user_000001")
    now = datetime.now(UTC)
    other = session_row(
        user, [("sku_other", "click", iso(now - timedelta(minutes=1)))], 1, int(now.timestamp()) + 60
    )

    def other_request() -> None:
        stack.client("dynamodb").put_item(
            TableName=stack.physical["StateTable"],
            Item={k: ({"N": str(v)} if isinstance(v, int) else {"S": v}) for k, v in other.items()},
        )

    with concurrent_session_write(other_request):
        # When this request records a later view
        post(stack, _view(1, "sku_mine"))
    # Then neither update is lost: the row holds both products, and was written twice
    assert sorted(_products(stack, user)) == ["sku_mine", "sku_other"]
    row = _row(stack, user)
    assert row is not None
    assert int(row["ver"]) == 2


def test_an_update_drops_servings_cached_copy(stack: LocalStack) -> None:
    # Given serving cached this visitor's (empty) session row
    assert stack.redis is not None
    cache = redis.Redis.from_url(stack.redis.url)
    key = session_cache_key(PSEUDONYMS.user("user_000001"))
    cache.set(key, b"[]", ex=300)
    # When the visitor views a product
    post(stack, _view(1, "sku_a"))
    # Then the cached copy is gone, so serving reads the new row at once
    assert cache.get(key) is None
