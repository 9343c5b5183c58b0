"""``python -m recs_tools.scale.publish``: the memory one publish shard needs, by model family.

The whole workflow runs on the local stack (moto, the real state machine and handlers) for a
synthetic shop of the given size, with the model family forced and `SHARD_USERS` users per
shard. Each `publish_shard` call is measured with `tracemalloc` (numpy reports its buffers to
it): the peak of what the call allocated above what was live when it began, for the user shards
and for the item shard apart. A fresh interpreter's resident memory after importing what the
train function imports is the base every invocation adds that to.

Prints one JSON line per family; docs/training.md (Publish) records a run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

SEED = 5
FAMILIES = ("als", "ease", "knn")


def measure(family: str, users: int, products: int, shard_users: int) -> dict[str, Any]:
    """Run the workflow once with `family` forced; the peak of each publish_shard call."""
    from recs.store_layout import CATALOG_OBJECT_KEY
    from recs_tools.local.stack import LocalStack
    from recs_tools.synthetic import build_config, generate_shop, iter_batches

    config = build_config(
        "demo", seed=SEED, now=datetime.now(UTC).replace(microsecond=0), n_users=users, n_products=products
    )
    shop = generate_shop(config)
    peaks: dict[str, list[float]] = {"users": [], "items": []}
    with LocalStack(parameter_overrides={"LogLevel": "ERROR"}) as stack:
        for batch in iter_batches(shop.events, size=500):
            stack.post_events({"events": batch})
        catalog = "\n".join(json.dumps(product) for product in shop.catalog()).encode()
        stack.client("s3").put_object(
            Bucket=stack.physical["ArtifactBucket"], Key=CATALOG_OBJECT_KEY, Body=catalog
        )
        pipeline = stack.function("TrainFunction").module.pipeline
        pipeline.params = pipeline.params.model_copy(
            update={"model_family": family, "shard_users": shard_users, "tuning_max_fits": 1}
        )
        publish = pipeline.publish_shard
        one_at_a_time = threading.Lock()  # the Map runs shards in threads; tracing is per process

        def measured(job: Any, shard: Any) -> Any:
            with one_at_a_time:
                tracemalloc.start()
                try:
                    return publish(job, shard)
                finally:
                    _, peak = tracemalloc.get_traced_memory()
                    tracemalloc.stop()
                    peaks["items" if shard.kind == "items" else "users"].append(peak / 2**20)

        pipeline.publish_shard = measured
        began = time.perf_counter()
        execution = stack.run_training(timeout_seconds=3600)
        seconds = time.perf_counter() - began
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"{family}: {execution['status']} {execution.get('cause')}")
        chosen = json.loads(execution["output"]).get("family")
    return {
        "family": family,
        "chosenFamily": chosen,
        "users": users,
        "products": products,
        "events": shop.n_events,
        "shardUsers": shard_users,
        "userShards": len(peaks["users"]),
        "userShardPeakMiB": round(max(peaks["users"], default=0.0), 1),
        "itemShardPeakMiB": round(max(peaks["items"], default=0.0), 1),
        "workflowSeconds": round(seconds, 1),
    }


def import_base_mib() -> float:
    """Resident memory of a fresh interpreter after the train function's heavy imports."""
    code = (
        "import resource, numpy, scipy.sparse, boto3, redis, pydantic, aws_lambda_powertools;"
        "import recs.training.pipeline, recs.wiring.train;"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(result.stdout.strip()), 1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.scale.publish", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--users", type=int, default=25_000)
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--shard-users", type=int, default=20_000)
    parser.add_argument("--family", choices=FAMILIES, action="append", help="repeatable; default all")
    args = parser.parse_args(argv)
    print(json.dumps({"importBaseMiB": import_base_mib()}), flush=True)
    for family in args.family or FAMILIES:
        result = measure(family, args.users, args.products, args.shard_users)
        result["maxRssMiB"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
