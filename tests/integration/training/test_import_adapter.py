"""The ImportTable adapter against moto's DynamoDB and S3 (with the local stack's import-file
reader, `recs_tools.local.table_import`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from recs.adapters.dynamodb_import import DynamoListsTables
from recs.store_layout import encode_items, user_pk, version_sk
from recs_tools.local.table_import import import_files_read_by_json

BUCKET = "artifact-bucket"
ROWS = [
    {
        "pk": user_pk(f"u_{n}"),
        "sk": version_sk("v1"),
        # A list row's "d" is JSON inside a string: quotes that must survive the file.
        "d": encode_items([(f"sku_{n}", 1.5, "similar-users"), ("sku_x", 0.25, None)]),
        "v": "v1",
        "expiresAt": 1_800_000_000,
        "absent": None,
    }
    for n in range(3)
]


def _fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto intercepts every call, but botocore still signs them."""
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ):
        monkeypatch.setenv(key, value)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    import boto3
    from moto import mock_aws

    _fake_credentials(monkeypatch)
    with mock_aws(), import_files_read_by_json():
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield s3, dynamodb


def _wait(tables: DynamoListsTables, arn: str) -> Any:
    for _ in range(100):
        progress = tables.progress(arn)
        if progress.status != "IN_PROGRESS":
            return progress
        time.sleep(0.02)
    raise AssertionError("the import did not finish")


def test_a_table_is_imported_from_the_files_under_a_prefix_warmed_and_deleted(aws: tuple[Any, Any]) -> None:
    # Given two import files under a version's prefix, and one elsewhere
    s3, dynamodb = aws
    tables = DynamoListsTables(dynamodb, BUCKET)
    s3.put_object(
        Bucket=BUCKET, Key="models/v1/import/users-00000.json.gz", Body=tables.import_file(ROWS[:2])
    )
    s3.put_object(
        Bucket=BUCKET, Key="models/v1/import/users-00001.json.gz", Body=tables.import_file(ROWS[2:])
    )
    s3.put_object(Bucket=BUCKET, Key="models/v0/import/users-00000.json.gz", Body=tables.import_file(ROWS))
    # When the table is imported
    progress = _wait(tables, tables.start_import("recs-lists-v1", "models/v1/import/", "v1"))
    # Then it completed with every row of the prefix, readable as the model table's rows are
    assert (progress.status, progress.imported) == ("COMPLETED", 3)
    rows = tables.rows("recs-lists-v1").get_many([(str(r["pk"]), str(r["sk"])) for r in ROWS])
    assert [row["d"] for row in rows if row] == [r["d"] for r in ROWS]
    described = dynamodb.describe_table(TableName="recs-lists-v1")["Table"]
    assert [k["AttributeName"] for k in described["KeySchema"]] == ["pk", "sk"]
    # And a new on-demand table already has 12,000 read units warm; more is asked for once, then
    # reported active
    assert tables.warm("recs-lists-v1", 12_000) is True
    assert tables.warm("recs-lists-v1", 20_000) is False
    assert tables.warm("recs-lists-v1", 20_000) is True
    warm = dynamodb.describe_table(TableName="recs-lists-v1")["Table"]["WarmThroughput"]
    assert warm["ReadUnitsPerSecond"] == 20_000
    # And the table is deleted once; a second delete finds nothing
    assert tables.exists("recs-lists-v1")
    assert tables.delete("recs-lists-v1") is True
    assert not tables.exists("recs-lists-v1")
    assert tables.delete("recs-lists-v1") is False


def test_an_import_into_an_existing_table_fails_and_says_why(aws: tuple[Any, Any]) -> None:
    # Given a table of that name already
    s3, dynamodb = aws
    tables = DynamoListsTables(dynamodb, BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/v1/import/users-00000.json.gz", Body=tables.import_file(ROWS))
    dynamodb.create_table(
        TableName="recs-lists-v1",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    # When imported / Then the import fails with a reason
    progress = _wait(tables, tables.start_import("recs-lists-v1", "models/v1/import/", "v1"))
    assert progress.status == "FAILED"
    assert progress.failure


def test_motos_own_reader_still_needs_the_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why `recs_tools.local.table_import` exists: when this fails, moto reads these files itself
    and the stand-in can go."""
    import boto3
    from moto import mock_aws

    _fake_credentials(monkeypatch)
    # Given moto without the local reader, and an import file of list rows
    with mock_aws():
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        tables = DynamoListsTables(dynamodb, BUCKET)
        s3.put_object(
            Bucket=BUCKET, Key="models/v1/import/users-00000.json.gz", Body=tables.import_file(ROWS)
        )
        # When imported / Then moto's reader does not bring the rows in whole
        _wait(tables, tables.start_import("recs-lists-v1", "models/v1/import/", "v1"))
        stored = tables.rows("recs-lists-v1").get_many([(str(r["pk"]), str(r["sk"])) for r in ROWS])
        assert [row["d"] if row else None for row in stored] != [r["d"] for r in ROWS]
