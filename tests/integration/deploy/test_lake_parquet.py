"""Converting an older NDJSON lake on the local stack (moto's S3 and the state table's lease)."""

from __future__ import annotations

import gzip
import json

import pytest

from recs import lake_format
from recs_tools.deploy.lake_parquet import main
from recs_tools.local.stack import LocalStack
from tests.unit.deploy.test_lake_parquet import _ndjson, _record


def _arguments(stack: LocalStack) -> list[str]:
    return ["--lake-bucket", stack.physical["EventLakeBucket"], "--state-table", stack.physical["StateTable"]]


def test_the_command_converts_the_lake_and_releases_the_lease(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a gzip NDJSON object in the lake, as Firehose wrote before the conversion
    s3, bucket = stack.client("s3"), stack.physical["EventLakeBucket"]
    key = "events/2026/11/06/06/recs-events-1-2026-11-06-06-00-00-abc"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(_ndjson([_record(i) for i in range(4)])))
    # When the command runs against the stack's bucket and state table
    code = main(_arguments(stack), clients=stack.client)
    # Then it exits 0, reports the conversion, and the lake holds the Parquet object only
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["objectsConverted"], report["records"]) == (1, 4)
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"{key}.parquet"]
    data = s3.get_object(Bucket=bucket, Key=f"{key}.parquet")["Body"].read()
    assert list(lake_format.records(data)) == [_record(i) for i in range(4)]
    # And the training lease is free again
    lease = stack.client("dynamodb").get_item(
        TableName=stack.physical["StateTable"], Key={"pk": {"S": "LEASE#training"}, "sk": {"S": "LEASE"}}
    )
    assert "Item" not in lease


def test_a_training_run_holding_the_lease_makes_it_exit_1_untouched(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an NDJSON object and a training run holding the lease for the next hour
    s3, bucket = stack.client("s3"), stack.physical["EventLakeBucket"]
    s3.put_object(Bucket=bucket, Key="events/2026/11/06/06/old", Body=_ndjson([_record(1)]))
    stack.client("dynamodb").put_item(
        TableName=stack.physical["StateTable"],
        Item={
            "pk": {"S": "LEASE#training"},
            "sk": {"S": "LEASE"},
            "holder": {"S": "run-42"},
            "takenAt": {"N": "0"},
            "expiresAt": {"N": str(2**40)},
        },
    )
    # When the command runs, Then it exits 1 naming the run, and the object is as it was
    assert main(_arguments(stack), clients=stack.client) == 1
    assert "run-42" in capsys.readouterr().err
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["events/2026/11/06/06/old"]
