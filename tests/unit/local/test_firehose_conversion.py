"""Firehose's record format conversion, locally (recs_tools.local.firehose_conversion)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pytest
from moto import mock_aws

from recs import lake_format
from recs_tools.local.firehose_conversion import arrow_type, convert_deliveries, json_documents

REGION = "eu-west-1"
COLUMNS = [
    {"Name": "eventid", "Type": "string"},
    {"Name": "quantity", "Type": "int"},
    {"Name": "results", "Type": "array<string>"},
]


def _destination(conversion: bool) -> dict[str, Any]:
    destination: dict[str, Any] = {
        "BucketARN": "arn:aws:s3:::lake",
        "RoleARN": "arn:aws:iam::123456789012:role/firehose",
        "Prefix": "events/",
        "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
    }
    if conversion:
        destination["FileExtension"] = ".parquet"
        destination["CompressionFormat"] = "UNCOMPRESSED"
        destination["DataFormatConversionConfiguration"] = {
            "Enabled": True,
            "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
            "SchemaConfiguration": {
                "DatabaseName": "db",
                "TableName": "events",
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            },
        }
    return destination


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with (
        mock_aws(),
        convert_deliveries(lambda database, table: COLUMNS if (database, table) == ("db", "events") else []),
    ):
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": REGION})
        firehose = boto3.client("firehose", region_name=REGION)
        for name, conversion in (("converted", True), ("raw", False)):
            firehose.create_delivery_stream(
                DeliveryStreamName=name, ExtendedS3DestinationConfiguration=_destination(conversion)
            )
        yield {"s3": s3, "firehose": firehose}


def _objects(s3: Any, prefix: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket="lake", Prefix=prefix).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket="lake", Key=item["Key"])["Body"].read() for item in listed}


def test_a_delivery_becomes_one_parquet_object_of_the_tables_columns(aws: dict[str, Any]) -> None:
    # Given two records, one holding two documents, with keys in another case and a key the table lacks
    records = [
        {"Data": b'{"eventId":"e1","quantity":2}\n{"EVENTID":"e2","results":["a"]}\n'},
        {"Data": b'{"eventId":"e3","extra":true}'},
    ]
    # When they are delivered to a stream that converts
    aws["firehose"].put_record_batch(DeliveryStreamName="converted", Records=records)
    # Then one .parquet object holds the three documents in the table's columns and types
    ((key, data),) = _objects(aws["s3"], "events/").items()
    assert key.endswith(".parquet")
    table = lake_format.read_table(data)
    assert table.schema == pa.schema(
        [("eventid", pa.string()), ("quantity", pa.int32()), ("results", pa.list_(pa.string()))]
    )
    assert table.to_pylist() == [
        {"eventid": "e1", "quantity": 2, "results": None},
        {"eventid": "e2", "quantity": None, "results": ["a"]},
        {"eventid": "e3", "quantity": None, "results": None},
    ]
    assert lake_format.compression_of(data) == "snappy"


def test_a_record_that_does_not_convert_goes_to_the_error_prefix_whole(aws: dict[str, Any]) -> None:
    # Given a good record and one whose second document has a quantity of another type
    bad = b'{"eventId":"e2"}{"eventId":"e3","quantity":"many"}'
    records = [{"Data": b'{"eventId":"e1"}\n'}, {"Data": bad}]
    # When they are delivered
    aws["firehose"].put_record_batch(DeliveryStreamName="converted", Records=records)
    # Then the lake holds only the good record
    (data,) = _objects(aws["s3"], "events/").values()
    assert [r["eventId"] for r in lake_format.records(data)] == ["e1"]
    # And the bad record, whole, is under the conversion's error prefix with Firehose's fields
    ((key, errors),) = _objects(aws["s3"], "errors/").items()
    assert key.startswith("errors/format-conversion-failed/")
    (document,) = [json.loads(line) for line in errors.splitlines()]
    assert base64.b64decode(document["rawData"]) == bad
    assert document["lastErrorCode"] == "DataFormatConversion.ParseError"
    assert "quantity" in document["lastErrorMessage"]


def test_a_stream_without_conversion_keeps_its_records_as_they_are(aws: dict[str, Any]) -> None:
    # Given a stream that does not convert / When a record is delivered
    aws["firehose"].put_record_batch(DeliveryStreamName="raw", Records=[{"Data": b'{"eventId":"e1"}\n'}])
    # Then the object holds the record's bytes
    assert list(_objects(aws["s3"], "events/").values()) == [b'{"eventId":"e1"}\n']


@pytest.mark.parametrize(
    ("data", "documents"),
    [
        (b'{"a":1}{"a":2}', [{"a": 1}, {"a": 2}]),
        (b'{"a":1}\n{"a":2}\n', [{"a": 1}, {"a": 2}]),
        (b"  \n", []),
    ],
)
def test_a_records_documents_are_concatenated_or_one_per_line(data: bytes, documents: list[Any]) -> None:
    assert json_documents(data) == documents


@pytest.mark.parametrize("data", [b'[{"a":1},{"a":2}]', b'{"a":1', b'"text"'])
def test_anything_but_json_objects_is_refused(data: bytes) -> None:
    # An array of documents is not valid input either (Firehose's documentation)
    with pytest.raises(ValueError, match=r"."):
        json_documents(data)


def test_hive_types_map_to_parquet_types_and_an_unknown_one_is_named() -> None:
    assert arrow_type("array<int>") == pa.list_(pa.int32())
    assert arrow_type("DOUBLE") == pa.float64()
    with pytest.raises(ValueError, match="decimal"):
        arrow_type("decimal(10,2)")
