"""Opt-out and opt-in on the local stack: the very next request, warm caches, the session
signal, training, and a cache that fails."""

from __future__ import annotations

import json
from typing import Any

import redis

from recs.store_layout import cache_key, optout_cache_key, preference_key, session_key, user_pk, version_sk
from recs_tools.local.stack import LocalStack
from tests.integration.privacy.support import (
    is_personalized,
    most_active_linked_user,
    post_events,
    recommendations,
    set_preference,
    view_now,
)
from tests.integration.training.support import (
    PSEUDONYMS,
    artifact,
    ingest_shop,
    model_row,
    pointer,
    upload_catalog,
)


def _state_row(stack: LocalStack, key: tuple[str, str]) -> dict[str, Any] | None:
    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.physical["StateTable"], Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
        .get("Item")
    )
    return dict(item) if item else None


def test_an_opt_out_stops_personal_results_at_once_and_opting_back_in_restores_them(
    stack: LocalStack,
) -> None:
    # Given a trained shop and an active user served personal lists from a warm cache and a warm
    # function (the flag and their list are cached; the function has served them twice)
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    assert stack.run_training()["status"] == "SUCCEEDED"
    user, _ = most_active_linked_user(shop)
    pseudonym = PSEUDONYMS.user(user)
    for _ in range(2):
        status, served = recommendations(stack, userId=user)
        assert status == 200
        assert is_personalized(stack, served)
    assert stack.redis is not None
    cache = redis.Redis.from_url(stack.redis.url)
    version = pointer(stack)["modelVersion"]  # type: ignore[index]
    assert cache.get(optout_cache_key(pseudonym)) == b"0"
    assert cache.get(cache_key(version, user_pk(pseudonym))) is not None

    # When they opt out
    status, body = set_preference(stack, user, False)
    assert status == 200
    assert body["personalizedRowsRemoved"] >= 1
    assert user not in json.dumps(body)

    # Then the very next requests, in every context, carry nothing personal
    for query in ({}, {"context": "product-page", "productId": "sku_00001"}, {"context": "cart"}):
        status, served = recommendations(stack, userId=user, **query)
        assert status == 200
        assert not is_personalized(stack, served, **query), served
    # And their new events feed no session signal (the row, if any, holds only the hourly count
    # of the per-visitor cap, never a product)
    post_events(stack, [view_now(10, "sku_00003", user=user)])
    row = _state_row(stack, session_key(pseudonym))
    assert row is None or (json.loads(row["d"]["S"]) == [] and int(row["n"]["N"]) == 1)
    # And the next training run leaves them out
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED"
    version = json.loads(execution["output"])["modelVersion"]
    assert pseudonym not in json.loads(artifact(stack, f"models/{version}/model/ids.json"))["users"]

    # When they opt back in and look at a popular product
    assert set_preference(stack, user, True)[0] == 200
    popular = recommendations(stack)[1]["products"][0]["id"]
    post_events(stack, [view_now(11, popular, user=user)])
    # Then their live session personalizes at once
    status, served = recommendations(stack, userId=user)
    assert served["source"] == "session"
    # And the next run publishes their list again (serving reads the new pointer within 15 s)
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED"
    version = json.loads(execution["output"])["modelVersion"]
    assert model_row(stack, user_pk(pseudonym), version_sk(version)) is not None


def test_when_the_cache_fails_an_opt_out_is_stored_answers_503_and_is_honoured(stack: LocalStack) -> None:
    # Given a trained shop and a user, then a cache that goes down
    shop = ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    user, _ = most_active_linked_user(shop)
    assert stack.redis is not None
    stack.redis.stop()
    # When the user opts out
    status, body = set_preference(stack, user, False)
    # Then the caller is told to retry (a stale cached flag could survive the outage) ...
    assert status == 503
    assert "retry" in body["message"]
    # ... but the preference is stored, and serving (reading DynamoDB while the cache is down) honours it
    row = _state_row(stack, preference_key(PSEUDONYMS.user(user)))
    assert row is not None
    assert row["recommendations"] == {"BOOL": False}
    status, served = recommendations(stack, userId=user)
    assert status == 200
    assert not is_personalized(stack, served)
