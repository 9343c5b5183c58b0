"""Helpers of the ingest integration tests: post to the real handler, read back the lake, inject faults."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest import mock

from moto.core.exceptions import ServiceException
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.firehose.models import FirehoseBackend

from recs import lake_format
from recs_tools.local.stack import LocalStack


def post(stack: LocalStack, body: Any, content_type: str = "application/json") -> dict[str, Any]:
    """POST /api/events through the real handler, as API Gateway would deliver it."""
    return stack.post_events(body, content_type)


def lake_raw_objects(stack: LocalStack, prefix: str = "") -> dict[str, bytes]:
    """Every object in the event lake bucket (under ``prefix``), as stored."""
    s3 = stack.client("s3")
    bucket = stack.physical["EventLakeBucket"]
    objects: dict[str, bytes] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return objects


def lake_objects(stack: LocalStack) -> dict[str, bytes]:
    """Every object in the event lake bucket as the NDJSON text of its records: a Parquet object
    (Firehose's conversion) as one JSON line per row, absent fields left out, so that text checks
    (no raw id, no personal value) see every value rather than Snappy-compressed columns; an
    NDJSON object decompressed when gzip."""
    objects: dict[str, bytes] = {}
    for key, data in lake_raw_objects(stack).items():
        if lake_format.is_parquet(data):
            lines = [json.dumps(record, separators=(",", ":")) + "\n" for record in lake_format.records(data)]
            objects[key] = "".join(lines).encode()
        else:
            objects[key] = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return objects


def lake_records(stack: LocalStack) -> list[dict[str, Any]]:
    """Every record in the lake, one per NDJSON line."""
    return [json.loads(line) for data in lake_objects(stack).values() for line in data.splitlines() if line]


class _FirehoseUnavailable(ServiceException):
    code = "ServiceUnavailableException"
    message = "Slow down."


@contextmanager
def flaky_firehose(failure_rate: float, failing_calls: int, seed: int) -> Iterator[list[int]]:
    """moto's Firehose fails a seeded random share of the records of its first `failing_calls`
    PutRecordBatch calls (the failed ones are not written), as Firehose does under pressure.
    Yields a list holding the number of records failed so far."""
    original = FirehoseBackend.put_record_batch
    rng = random.Random(seed)
    calls = [0]
    failed = [0]

    def put_record_batch(self: Any, delivery_stream_name: str, records: list[dict[str, bytes]]) -> Any:
        calls[0] += 1
        if calls[0] > failing_calls:
            return original(self, delivery_stream_name, records)
        failing = [rng.random() < failure_rate for _ in records]
        kept = [r for r, fail in zip(records, failing, strict=True) if not fail]
        if kept:
            original(self, delivery_stream_name, kept)
        failed[0] += sum(failing)
        return {
            "FailedPutCount": sum(failing),
            "Encrypted": False,
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
                if fail
                else {"RecordId": f"r{i}"}
                for i, fail in enumerate(failing)
            ],
        }

    with mock.patch.object(FirehoseBackend, "put_record_batch", put_record_batch):
        yield failed


@contextmanager
def firehose_down() -> Iterator[None]:
    """moto's Firehose answers ServiceUnavailable to every PutRecordBatch."""

    def put_record_batch(self: Any, delivery_stream_name: str, records: list[dict[str, bytes]]) -> Any:
        raise _FirehoseUnavailable()

    with mock.patch.object(FirehoseBackend, "put_record_batch", put_record_batch):
        yield


def _throttled() -> DynamodbException:
    return DynamodbException(
        ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
        "Throughput exceeds the current capacity",
    )


@contextmanager
def dynamodb_throttled(reads: bool = True, writes: bool = True) -> Iterator[None]:
    """moto's DynamoDB throttles BatchGetItem and/or PutItem on every table."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise _throttled()

    with ExitStack() as patches:
        if reads:
            patches.enter_context(mock.patch.object(DynamoHandler, "batch_get_item", refuse))
        if writes:
            patches.enter_context(mock.patch.object(DynamoDBBackend, "put_item", refuse))
        yield


@contextmanager
def concurrent_session_write(write: Callable[[], None]) -> Iterator[None]:
    """Run `write` (another request's update) just before this request's first PutItem of a row."""
    original = DynamoDBBackend.put_item
    done = [False]

    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if not done[0] and str(item_attrs.get("pk", {}).get("S", "")).startswith("SESSION#"):
            done[0] = True
            write()
        return original(self, table_name, item_attrs, *args, **kwargs)

    with mock.patch.object(DynamoDBBackend, "put_item", put_item):
        yield
