"""Everything the product stores, as text, so a test can search it for identifiers.

Both DynamoDB tables (every attribute of every item), every Redis key and value, every object of
the lake, artifact and export buckets (gzip decompressed; Parquet objects, the lake's and
Prepare's kept days, as their rows, since compressed columns hide their text; string arrays of
``.npz`` artifacts decoded) and every state machine execution's history (Step Functions keeps
inputs and outputs too).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import redis

from recs import lake_format
from recs_tools.local.stack import LocalStack


@dataclass(frozen=True)
class Finding:
    needle: str
    where: str


def _dynamodb(stack: LocalStack) -> Iterator[tuple[str, str]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    for logical_id in ("ModelTable", "StateTable"):
        for page in paginator.paginate(TableName=stack.physical[logical_id]):
            for item in page["Items"]:
                where = f"{logical_id} {item['pk']['S']}/{item['sk']['S']}"
                yield where, json.dumps(item, default=str)


def _redis(stack: LocalStack) -> Iterator[tuple[str, str]]:
    if stack.redis is None:
        return
    client = redis.Redis.from_url(stack.redis.url)
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        value: Any = client.get(key) if kind == b"string" else client.dump(key)
        yield f"redis {key!r}", key.decode(errors="replace") + " " + repr(value)


def object_text(key: str, data: bytes) -> str:
    if lake_format.is_parquet(data):
        # One JSON line per row, absent values left out: a lake object reads as the NDJSON of the
        # records it holds (the lake's lower-case columns named as the record's fields).
        return "".join(json.dumps(row, default=str) + "\n" for row in lake_format.records(data))
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if key.endswith(".npz"):
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return " ".join(
                str(arrays[name].tolist()) for name in arrays.files if arrays[name].dtype.kind in "US"
            )
    return data.decode("utf-8", errors="replace")


def _s3(stack: LocalStack) -> Iterator[tuple[str, str]]:
    s3 = stack.client("s3")
    for logical_id in ("EventLakeBucket", "ArtifactBucket", "ExportBucket"):
        bucket = stack.physical[logical_id]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                data = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                yield f"s3://{bucket}/{obj['Key']}", obj["Key"] + " " + object_text(obj["Key"], data)


def _executions(stack: LocalStack) -> Iterator[tuple[str, str]]:
    sfn = stack.client("stepfunctions")
    for machine in stack.state_machines.values():
        for execution in sfn.list_executions(stateMachineArn=machine.arn)["executions"]:
            history = stack.execution_history(execution["executionArn"])
            yield f"execution {execution['name']}", json.dumps(history, default=str)


def store_texts(stack: LocalStack) -> list[tuple[str, str]]:
    """(where, text) of everything stored."""
    return [*_dynamodb(stack), *_redis(stack), *_s3(stack), *_executions(stack)]


def find(
    stack: LocalStack, needles: Iterable[str], texts: list[tuple[str, str]] | None = None
) -> list[Finding]:
    """Every store location holding any of `needles`."""
    wanted = [n for n in dict.fromkeys(needles) if n]
    return [
        Finding(needle, where)
        for where, text in (texts if texts is not None else store_texts(stack))
        for needle in wanted
        if needle in text
    ]
