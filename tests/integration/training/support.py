"""Helpers of the training workflow tests: a shop in the lake, reading what a run published."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from recs.pseudonyms import Pseudonymizer
from recs.store_layout import CATALOG_OBJECT_KEY, POINTER_KEY
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from recs_tools.synthetic import SyntheticShop, build_config, generate_shop, iter_batches

PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())


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
