"""Publishing only what changed, on the local stack with the real state machine: the first run
publishes every row (the base), the next writes only the rows that differ from it, the pointer
names both, and serving reads a user's row under the new version, else under the base."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from recs.store_layout import decode_items, user_pk, version_meta_key, version_sk
from recs.training.workflow import PreparedJob
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event
from tests.integration.serving.world import with_query
from tests.integration.training.support import (
    PSEUDONYMS,
    ingest_shop,
    model_row,
    model_rows,
    pointer,
    publish_pipeline,
    train_pipeline,
)


def _user_rows(stack: LocalStack, version: str) -> dict[str, dict[str, Any]]:
    return {
        row["pk"]: row
        for row in model_rows(stack)
        if row["pk"].startswith(user_pk("")) and row["sk"] == version_sk(version)
    }


def _served(stack: LocalStack, user: str) -> dict[str, Any]:
    served = stack.invoke("RecommendFunction", with_query(load_event("recommend_homepage"), userId=user))
    assert served["statusCode"] == 200
    body: dict[str, Any] = body_of(served)
    return body


def _purchase(user: str, product: str) -> dict[str, Any]:
    return {
        "eventId": str(uuid.UUID(int=hash((user, product)) & ((1 << 122) - 1))),
        "eventType": "purchase",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "userId": user,
        "productId": product,
        "quantity": 1,
    }


def _changes_only(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """PUBLISH_CHANGES_ONLY on the training function (Train makes the plan the shards follow),
    with fixed parameters and short lists: the search's wall-clock budget would let a busy
    machine choose another family on the second run, and a retrained model reorders the tail of
    every long list (bench/publish_changes.py measures how often on real data)."""
    fixed = {
        "publish_changes_only": True,
        "auto_tune": False,
        "model_family": "als",
        "top_k": 10,
        "half_life_days": 0.0,
    }
    # Train makes the plan and the model; the user shards rank on the publish function.
    for pipeline in (train_pipeline(stack), publish_pipeline(stack)):
        monkeypatch.setattr(pipeline, "params", pipeline.params.model_copy(update=fixed))


def test_the_next_run_writes_only_changed_rows_and_the_rest_serve_from_the_base(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack that publishes changes only, and a first run, which publishes every row and
    # becomes the base
    _changes_only(stack, monkeypatch)
    shop = ingest_shop(stack)
    first = stack.run_training()
    assert first["status"] == "SUCCEEDED", first.get("cause")
    v1 = pointer(stack)["modelVersion"]  # type: ignore[index]
    assert pointer(stack)["baseVersion"] == v1  # type: ignore[index]
    assert json.loads(first["output"])["flipped"]["publish"] == "full"
    meta = model_row(stack, *version_meta_key(v1))
    assert meta is not None
    assert int(meta["hashShards"]) >= 1
    base_rows = _user_rows(stack, v1)
    before = {
        user: _served(stack, user) for user in shop.users if user_pk(PSEUDONYMS.user(user)) in base_rows
    }
    # When a shopper buys three products and the next run publishes
    counts = Counter(str(e["userId"]) for e in shop.events if e.get("userId"))
    buyer = next(u for u, _ in reversed(counts.most_common()) if u not in set(shop.opted_out_user_ids))
    response = stack.post_events({"events": [_purchase(buyer, p.id) for p in shop.products[:3]]})
    assert response["statusCode"] == 202, response
    second = stack.run_training()
    assert second["status"] == "SUCCEEDED", second.get("cause")
    flipped = json.loads(second["output"])["flipped"]
    v2 = pointer(stack)["modelVersion"]  # type: ignore[index]
    # Then it was a delta of the first: the pointer names the base, fewer rows were written
    # than the base holds, and the others were counted unchanged
    assert flipped["publish"] == "delta"
    assert pointer(stack)["baseVersion"] == v1  # type: ignore[index]
    delta_rows = _user_rows(stack, v2)
    assert 0 < len(delta_rows) < len(base_rows)
    assert flipped["unchangedRows"] > 0
    # And a shopper without a row of the new version is served the base's list under the new version
    # (the warm container forgets the pointer it read, as it does after its control TTL)
    stack.function("RecommendFunction").module.service._repo._control = None
    raw = {PSEUDONYMS.user(user): user for user in shop.users}
    unchanged = next(raw[pk.removeprefix(user_pk(""))] for pk in base_rows if pk not in delta_rows)
    body = _served(stack, unchanged)
    assert body["modelVersion"] == v2
    # (its own list first, as under the base: the same source and the same products from its row;
    # shop-wide lists mixed in come from the new version)
    was = before[unchanged]
    assert body["source"] == was["source"] != "popular"
    listed = [pid for pid, _, _ in decode_items(base_rows[user_pk(PSEUDONYMS.user(unchanged))]["d"])]
    from_row = [p["id"] for p in body["products"] if p["id"] in listed]
    assert from_row
    assert from_row == [p["id"] for p in was["products"] if p["id"] in listed]
    # And the buyer, whose list changed, has a row of the new version
    assert user_pk(PSEUDONYMS.user(buyer)) in delta_rows


def test_the_base_is_renewed_after_the_configured_days(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published base
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    base = pointer(stack)["modelVersion"]  # type: ignore[index]
    meta = model_row(stack, *version_meta_key(base))
    assert meta is not None
    _changes_only(stack, monkeypatch)
    pipeline = train_pipeline(stack)
    job = PreparedJob(
        executionName="plan",
        modelVersion="v-next",
        generatedAt="now",
        endTs=float(meta["baseEndTs"]),
        stats={},
    )
    shards = int(meta["hashShards"])
    day = 86_400.0
    # Then, changes-only on, a run within FULL_PUBLISH_DAYS is a delta of it; a later one, another
    # shard count, or changes-only off (the default), a full publish
    assert pipeline._publish_plan(job, shards).mode == "delta"
    late = job.model_copy(update={"endTs": job.endTs + pipeline.params.full_publish_days * day})
    assert pipeline._publish_plan(late, shards).mode == "full"
    assert pipeline._publish_plan(job, shards * 2).mode == "full"
    monkeypatch.setattr(
        pipeline, "params", pipeline.params.model_copy(update={"publish_changes_only": False})
    )
    assert pipeline._publish_plan(job, shards).mode == "full"
