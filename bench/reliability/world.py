"""A local stack that has been through the real product: a synthetic shop posted to the ingest
function, one training run of the real state machine, and the HTTP API in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from recs.store_layout import POINTER_KEY
from recs_tools.local.http import LocalApiServer
from recs_tools.local.stack import LocalStack
from recs_tools.synthetic import SyntheticShop, build_config, generate_shop, iter_batches

SHOP_SEED = 3


@dataclass(frozen=True)
class TrainedWorld:
    stack: LocalStack
    api: LocalApiServer
    shop: SyntheticShop
    version: str

    def user_ids(self) -> list[str]:
        return sorted({str(e["userId"]) for e in self.shop.events if e.get("userId")})

    def product_ids(self) -> list[str]:
        return sorted({str(e["productId"]) for e in self.shop.events if e.get("productId")})


def ingest_and_train(stack: LocalStack, *, preset: str = "test", seed: int = SHOP_SEED) -> SyntheticShop:
    """Post a shop's events through the ingest function, then run the training state machine."""
    shop = generate_shop(build_config(preset, seed=seed, now=datetime.now(UTC).replace(microsecond=0)))
    for batch in iter_batches(shop.events, size=500):
        response = stack.post_events({"events": batch})
        if response["statusCode"] != 202:
            raise RuntimeError(f"ingest refused a batch: {response}")
    execution = stack.run_training()
    if execution["status"] != "SUCCEEDED":
        raise RuntimeError(f"training did not succeed: {execution.get('error')} {execution.get('cause')}")
    return shop


def current_version(stack: LocalStack) -> str:
    item = stack.client("dynamodb").get_item(
        TableName=stack.physical["ModelTable"],
        Key={"pk": {"S": POINTER_KEY[0]}, "sk": {"S": POINTER_KEY[1]}},
    )["Item"]
    return str(item["modelVersion"]["S"])


@contextmanager
def trained_world(*, preset: str = "test") -> Iterator[TrainedWorld]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        shop = ingest_and_train(stack, preset=preset)
        api = LocalApiServer(stack, port=0).start()
        try:
            yield TrainedWorld(stack, api, shop, current_version(stack))
        finally:
            api.stop()
