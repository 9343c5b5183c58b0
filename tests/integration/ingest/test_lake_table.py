"""The lake's Athena table, provisioned from template.yaml, finds what ingest delivered."""

from __future__ import annotations

import json
from datetime import datetime

from recs import lake_format
from recs_tools.local.stack import LocalStack
from tests.helpers import load_event
from tests.integration.ingest.lake import lake_objects, lake_raw_objects


def _strftime(java_format: str) -> str:
    return java_format.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d").replace("HH", "%H")


def test_every_delivered_object_lies_in_a_partition_of_the_events_table(stack: LocalStack) -> None:
    # Given the events table of the local stack (built from template.yaml) and an accepted event
    database, name = stack.physical["EventsTable"].split(".")
    table = stack.client("glue").get_table(DatabaseName=database, Name=name)["Table"]
    template = table["Parameters"]["storage.location.template"]
    hour_format = _strftime(table["Parameters"]["projection.dt.format"])
    assert stack.invoke("IngestFunction", load_event("ingest_view"))["statusCode"] == 202
    # When the lake's objects are listed
    objects = lake_objects(stack)
    # Then each one sits under the table's location for the hour of its delivery, so a query
    # with a `dt` range finds it without any partition upkeep
    assert objects
    bucket = stack.physical["EventLakeBucket"]
    for key, body in objects.items():
        folder = f"s3://{bucket}/{key.rsplit('/', 1)[0]}/"
        hour = folder.removeprefix(template.split("${dt}")[0]).rstrip("/")
        assert folder == template.replace("${dt}", hour)
        datetime.strptime(hour, hour_format)  # raises unless the folder is a projected hour
        # and the columns the table declares are the record's keys (lower-cased by Glue)
        columns = {column["Name"] for column in table["StorageDescriptor"]["Columns"]}
        for line in body.splitlines():
            assert {field.lower() for field in json.loads(line)} <= columns


def test_firehose_delivers_parquet_with_the_tables_columns_and_types(stack: LocalStack) -> None:
    # Given the events table of the local stack (built from template.yaml) and accepted events
    database, name = stack.physical["EventsTable"].split(".")
    table = stack.client("glue").get_table(DatabaseName=database, Name=name)["Table"]
    assert stack.invoke("IngestFunction", load_event("ingest_batch"))["statusCode"] == 202
    # When the lake's objects are read as stored
    objects = lake_raw_objects(stack, "events/")
    # Then each is a Parquet object named .parquet whose schema is the table's columns, in order,
    # with their types (lake_format.SCHEMA, which the unit tests tie to the same table)
    assert objects
    declared = [column["Name"] for column in table["StorageDescriptor"]["Columns"]]
    for key, data in objects.items():
        assert key.endswith(".parquet")
        assert lake_format.is_parquet(data)
        schema = lake_format.read_table(data).schema
        assert schema.names == declared
        assert schema == lake_format.SCHEMA
