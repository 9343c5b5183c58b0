"""Helpers of the training workflow tests: a shop in the lake, reading what a run published, and
the steps the engine tests (Spark, the container, Prepare in the container) share: a published
version to fail after, and what a version serves."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from recs.pseudonyms import Pseudonymizer
from recs.store_layout import CATALOG_OBJECT_KEY, POINTER_KEY, version_meta_key
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from recs_tools.synthetic import SyntheticShop, build_config, generate_shop, iter_batches
from tests.helpers import body_of, load_event
from tests.integration.serving.world import with_query

PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())

#: What the template asks for when the container engine is on (the Rules refuse the deploy
#: without them): every run trains in the container (ContainerMinInteractions 1).
CONTAINER_PARAMETERS = {
    "LogLevel": "WARNING",
    "ContainerMinInteractions": "1",
    "TrainingImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs-training:test",
    "ContainerVpcId": "vpc-0123456789abcdef0",
    "ContainerSubnetIds": "subnet-0123456789abcdef0",
}


def ingest_shop(stack: LocalStack, *, preset: str = "test", seed: int = 3) -> SyntheticShop:
    """Generate a shop ending now and post its events through the ingest function."""
    shop = generate_shop(build_config(preset, seed=seed, now=datetime.now(UTC).replace(microsecond=0)))
    for batch in iter_batches(shop.events, size=500):
        response = stack.post_events({"events": batch})
        assert response["statusCode"] in (202, 207), response
    return shop


def upload_catalog(stack: LocalStack, shop: SyntheticShop) -> None:
    """What the shop's catalog export does: products.jsonl in the artifact bucket (which runs the
    catalog feed, as S3's notification does in AWS)."""
    body = "\n".join(json.dumps(product) for product in shop.catalog()).encode()
    stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, body)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: next(iter(value.values())) for key, value in item.items()}


def model_row(stack: LocalStack, pk: str, sk: str) -> dict[str, Any] | None:
    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.physical["ModelTable"], Key={"pk": {"S": pk}, "sk": {"S": sk}})
        .get("Item")
    )
    return _plain(item) if item else None


def pointer(stack: LocalStack) -> dict[str, Any] | None:
    return model_row(stack, *POINTER_KEY)


def model_rows(stack: LocalStack) -> list[dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return [
        _plain(item)
        for page in paginator.paginate(TableName=stack.physical["ModelTable"])
        for item in page["Items"]
    ]


def artifact_keys(stack: LocalStack, prefix: str = "") -> list[str]:
    paginator = stack.client("s3").get_paginator("list_objects_v2")
    return [
        obj["Key"]
        for page in paginator.paginate(Bucket=stack.physical["ArtifactBucket"], Prefix=prefix)
        for obj in page.get("Contents", [])
    ]


def artifact(stack: LocalStack, key: str) -> bytes:
    body: bytes = (
        stack.client("s3").get_object(Bucket=stack.physical["ArtifactBucket"], Key=key)["Body"].read()
    )
    return body


def entered_states(stack: LocalStack, execution: dict[str, Any]) -> list[str]:
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in stack.execution_history(execution["executionArn"])
        if "stateEnteredEventDetails" in event
    ]


def train_pipeline(stack: LocalStack) -> Any:
    """The training function's pipeline object (its module loads on first use, as a cold start)."""
    return stack.function("TrainFunction").module.pipeline


def publish_pipeline(stack: LocalStack) -> Any:
    """The publish function's pipeline object: user shards run there (the item shard does not)."""
    return stack.function("PublishFunction").module.pipeline


# ---------------------------------------------------------------------- the engine tests' steps
def published_pointer(stack: LocalStack) -> dict[str, Any]:
    """A shop's events ingested and a run that published them: the pointer it left (what a failed
    run after it must leave serving)."""
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    before = pointer(stack)
    assert before is not None
    return before


def trained_shop(stack: LocalStack) -> tuple[SyntheticShop, dict[str, Any], list[str]]:
    """A shop's events and catalog, then a training run, which must succeed: the shop, the
    execution and the states it entered."""
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    return shop, execution, entered_states(stack, execution)


def assert_published(stack: LocalStack, version: str) -> dict[str, Any]:
    """The version's META row says it was published and the pointer names it: the META row."""
    meta = model_row(stack, *version_meta_key(version))
    assert meta is not None
    assert meta["status"] == "published"
    assert (pointer(stack) or {}).get("modelVersion") == version
    return meta


def assert_serves_a_known_shopper(stack: LocalStack, shop: SyntheticShop, version: str) -> None:
    """The shop's most active shopper (not opted out) is served a non-empty list from `version`."""
    counts = Counter(e.get("userId") for e in shop.events if e.get("userId"))
    user = next(u for u, _ in counts.most_common() if u not in set(shop.opted_out_user_ids))
    served = stack.invoke("RecommendFunction", with_query(load_event("recommend_homepage"), userId=user))
    assert served["statusCode"] == 200
    body = body_of(served)
    assert body["modelVersion"] == version
    assert body["products"]


def assert_serves_anonymous_from(stack: LocalStack, version: str) -> None:
    """An anonymous visitor is served from `version` (after a failed run: the previous one)."""
    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == version
