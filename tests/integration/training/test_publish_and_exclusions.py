"""Publishing over several shards, a shard that fails, and what must never be published."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recs.store_layout import (
    AVAILABILITY_KEY,
    decode_availability,
    decode_items,
    iso,
    tombstone_key,
    version_sk,
)
from recs.training.workflow import EvaluatedJob, Shard, ShardWritten
from recs_tools.local.stack import LocalStack
from tests.helpers import load_event
from tests.integration.ingest.lake import lake_records
from tests.integration.training.support import (
    PSEUDONYMS,
    artifact,
    entered_states,
    ingest_shop,
    model_row,
    model_rows,
    pointer,
    publish_pipeline,
    train_pipeline,
    upload_catalog,
)


def test_users_are_published_over_several_shards(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 25 users per shard (the test shop has about 100 known users)
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    monkeypatch.setattr(pipeline, "params", pipeline.params.model_copy(update={"shard_users": 25}))
    # When the workflow runs
    execution = stack.run_training()
    # Then the Distributed Map ran one child per shard and every user's list was written
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    manifest = output["shards"]
    assert manifest["count"] == 5  # four user shards and the item lists
    version = output["modelVersion"]
    users = [r for r in model_rows(stack) if r["pk"].startswith("U#") and r["sk"] == version_sk(version)]
    assert len(users) == output["stats"]["users"]
    assert output["flipped"]["rows"] >= len(users)
    assert "ResultWriterDetails" in output["publishRun"]


def test_a_shard_that_fails_stops_the_flip_and_the_old_version_keeps_serving(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published version, then a run whose user shard fails every attempt
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    before = pointer(stack)
    pipeline = publish_pipeline(stack)
    real = pipeline.publish_shard

    def failing(job: EvaluatedJob, shard: Shard) -> ShardWritten:
        if shard.kind == "users":
            raise RuntimeError("simulated shard crash")
        written: ShardWritten = real(job, shard)
        return written

    monkeypatch.setattr(pipeline, "publish_shard", failing)
    # When the workflow runs
    execution = stack.run_training()
    # Then the flip finds the shard unfinished, the run fails and the pointer does not move
    assert execution["status"] == "FAILED"
    assert "RecordFailure" in entered_states(stack, execution)
    assert pointer(stack) == before
    failed = [r for r in model_rows(stack) if r["pk"].startswith("VERSION#") and r.get("status") == "failed"]
    assert [r["error"] for r in failed] == ["PublishIncompleteError"]


def test_opted_out_erased_unavailable_and_unknown_never_reach_the_published_version(
    stack: LocalStack,
) -> None:
    # Given a shop with its catalog, a user who opts out and a user who was erased
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    # And a client that sent purchases of a product the catalog does not list
    unknown = [
        {
            "eventId": str(uuid.uuid4()),
            "eventType": "purchase",
            "userId": f"fake_{n}",
            "productId": "sku_not_in_catalog",
            "timestamp": iso(datetime.now(UTC) - timedelta(minutes=n + 1)),
        }
        for n in range(5)
    ]
    assert stack.post_events({"events": unknown})["statusCode"] == 202
    activity = Counter(str(e["userId"]) for e in shop.events if e.get("userId"))
    (opted_out, _), (erased, _) = activity.most_common(2)
    put = stack.invoke("PrivacyFunction", _opt_out_event(opted_out))
    assert put["statusCode"] == 200
    erased_pseudonym = PSEUDONYMS.user(erased)
    pk, sk = tombstone_key(PSEUDONYMS.tombstone(erased_pseudonym))
    stack.client("dynamodb").put_item(
        TableName=stack.physical["StateTable"], Item={"pk": {"S": pk}, "sk": {"S": sk}}
    )
    # When the workflow runs
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    version = output["modelVersion"]
    # Then neither user has a row, nor is in the model's id map
    excluded = {PSEUDONYMS.user(opted_out), erased_pseudonym}
    rows = [r for r in model_rows(stack) if r["sk"] == version_sk(version)]
    assert not [r for r in rows if r["pk"].partition("#")[2] in excluded]
    ids = json.loads(artifact(stack, f"models/{version}/model/ids.json"))
    assert not excluded & set(ids["users"])
    assert output["stats"]["erasureTombstones"] == 1
    assert output["stats"]["optedOutUsers"] == 1
    # (the unknown product's events are in the lake, left out by Prepare, and it is not indexed)
    assert output["stats"]["unknownProductEvents"] >= len(unknown)
    assert "sku_not_in_catalog" not in ids["items"]
    # (the erased user's records left the lake in the run's purge sweep, before Prepare: only
    # the opted-out user's events are still there to be excluded)
    assert output["stats"]["excludedVisitors"] >= 1
    assert not [r for r in lake_records(stack) if r.get("userId") == erased_pseudonym]
    # And no published list holds an unavailable product, which the availability row names
    unavailable = {p.id for p in shop.products if not p.available}
    assert unavailable
    for row in rows:
        if row["pk"].startswith(("U#", "SIM#", "BT#", "POP#", "TREND#")):
            assert not unavailable & {product for product, _, _ in decode_items(row["d"])}, row["pk"]
    availability = model_row(stack, *AVAILABILITY_KEY)
    assert availability is not None
    assert unavailable <= set(decode_availability([availability]))


def _opt_out_event(user: str) -> dict[str, Any]:
    event = load_event("privacy_opt_out")
    sample_user = event["pathParameters"]["userId"]
    encoded = json.dumps(event).replace(sample_user, user)
    result: dict[str, Any] = json.loads(encoded)
    return result
