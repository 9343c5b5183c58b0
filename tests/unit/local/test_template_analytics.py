"""The lake's Athena table (template.yaml) must describe what ingest writes: LakeEvent."""

from __future__ import annotations

from typing import Any

from recs.contracts.events import LakeEvent
from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template

_HIVE_TYPES = {"string": "string", "integer": "int", "number": "double", "boolean": "boolean"}


def _hive_type(schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    assert len(options) == 1, schema
    option = options[0]
    if "$ref" in option:
        option = definitions[option["$ref"].rsplit("/", 1)[-1]]
    if option.get("type") == "array":
        return f"array<{_hive_type(option['items'], definitions)}>"
    return _HIVE_TYPES[option["type"]]


def _events_table() -> dict[str, Any]:
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    table: dict[str, Any] = resources["EventsTable"]["Properties"]["TableInput"]
    return table


def test_the_events_table_has_one_column_per_lake_field_with_its_type() -> None:
    # Given the lake record model's JSON schema and the table in template.yaml
    schema = LakeEvent.model_json_schema()
    definitions = schema.get("$defs", {})
    expected = {name.lower(): _hive_type(field, definitions) for name, field in schema["properties"].items()}
    # When the table's columns are read
    columns = {column["Name"]: column["Type"] for column in _events_table()["StorageDescriptor"]["Columns"]}
    # Then they are exactly the model's fields (lower-cased, as Glue stores names) with Hive types
    assert columns == expected


def test_firehose_converts_against_the_table_and_the_table_reads_parquet_by_hour() -> None:
    # Given the table and the delivery stream of template.yaml
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    table = _events_table()
    stream = resources["EventDeliveryStream"]
    delivery = stream["Properties"]["ExtendedS3DestinationConfiguration"]
    conversion = delivery["DataFormatConversionConfiguration"]
    # Then Firehose converts JSON (OpenX, which matches keys without case) to Parquet against
    # this very table, created before the stream, with a role allowed to read its schema
    assert "OpenXJsonSerDe" in conversion["InputFormatConfiguration"]["Deserializer"]
    assert "ParquetSerDe" in conversion["OutputFormatConfiguration"]["Serializer"]
    schema = conversion["SchemaConfiguration"]
    assert schema["DatabaseName"] == {"Ref": "EventLakeDatabase"}
    assert schema["TableName"] == table["Name"]
    assert schema["VersionId"] == "LATEST"
    assert stream["DependsOn"] == "EventsTable"
    policies = resources["DeliveryStreamRole"]["Properties"]["Policies"]
    actions = {a for p in policies for st in p["PolicyDocument"]["Statement"] for a in st["Action"]}
    assert {"glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"} <= actions
    # And the table reads where and how Firehose writes: the same prefix, Parquet, and hourly
    # partitions in Firehose's default key layout (prefix + YYYY/MM/DD/HH/)
    assert delivery["Prefix"] == "events/"
    assert delivery["FileExtension"] == ".parquet"
    assert (
        table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
        == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert table["Parameters"]["classification"] == "parquet"
    assert table["Parameters"]["projection.dt.format"] == "yyyy/MM/dd/HH"
    assert table["Parameters"]["projection.dt.interval.unit"] == "HOURS"
    assert [key["Name"] for key in table["PartitionKeys"]] == ["dt"]
