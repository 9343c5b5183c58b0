"""The lake's object formats (recs.lake_format): Parquet as Firehose's conversion writes it."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pyarrow as pa
import pytest

from recs import lake_format
from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template
from recs_tools.local.firehose_conversion import parquet_schema


def _record(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{i:012d}",
        "eventType": "purchase",
        "timestamp": "2026-11-06T06:33:36.202000Z",
        "productId": f"sku_{i}",
        "quantity": 2,
        "price": 9.5,
        "results": ["a", "b"],
        "userId": f"u_{i}",
        "receivedAt": "2026-11-06T06:33:37Z",
        "schemaVersion": 1,
        **extra,
    }


def test_the_schema_is_the_glue_tables_columns_with_their_types() -> None:
    # Given the events table Firehose converts against (template.yaml)
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    columns = resources["EventsTable"]["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
    # Then the Parquet schema has the same columns, in order, with the Hive types' Parquet types
    # (as the local Firehose reads them from the table)
    assert parquet_schema(columns) == lake_format.SCHEMA


def test_records_come_back_as_ingest_wrote_them() -> None:
    # Given records as ingest writes them (absent fields left out)
    rows = [_record(i) for i in range(3)] + [_record(3, anonId="a_3", sampleRate=4)]
    # When they are written as a Parquet lake object and read back
    data = lake_format.encode_records(rows)
    # Then the object is Parquet and its records are the same dicts
    assert lake_format.is_parquet(data)
    assert list(lake_format.records(data)) == rows


def test_keys_match_columns_without_case_and_unknown_keys_are_dropped() -> None:
    # Given a record whose keys differ in case from the table's and one key the table lacks
    row = {"EVENTID": "e1", "eventtype": "view", "productId": "p", "extra": 1}
    # When it is converted
    data = lake_format.encode_records([row])
    # Then it reads back under the record's field names, without the unknown key
    assert list(lake_format.records(data)) == [{"eventId": "e1", "eventType": "view", "productId": "p"}]


def test_a_value_of_another_type_names_its_field() -> None:
    # Given a quantity that is not an integer
    # When it is converted, Then the error names the field
    with pytest.raises(ValueError, match=r"^quantity: "):
        lake_format.encode_records([_record(1, quantity="two")])


def test_fields_read_as_columns_named_by_the_record_with_missing_ones_null() -> None:
    # Given an object written under a table without sampleRate
    table = lake_format.table_of_records([_record(1), _record(2)]).drop_columns(["samplerate"])
    data = lake_format.encode(table)
    # When three fields are read
    (read,) = list(lake_format.read_fields(data, ["eventId", "quantity", "sampleRate"]))
    # Then they are named by the record, and the missing one is null
    assert read.column_names == ["eventId", "quantity", "sampleRate"]
    assert read.column("quantity").to_pylist() == [2, 2]
    assert read.column("sampleRate").null_count == 2


def test_text_fields_asked_for_as_dictionaries_read_as_the_same_texts() -> None:
    # Given an object whose users repeat, written under a table without sampleRate
    records = [_record(i, userId=f"u_{i % 3}") for i in range(10)]
    data = lake_format.encode(lake_format.table_of_records(records).drop_columns(["samplerate"]))
    # When its users and products are read as dictionaries, beside a count and a missing field
    fields = ["userId", "productId", "quantity", "sampleRate"]
    (coded,) = list(lake_format.read_fields(data, fields, dictionaries=["userId", "productId", "sampleRate"]))
    (plain,) = list(lake_format.read_fields(data, fields))
    # Then the texts come as dictionary arrays, the users' dictionary listing each user once
    assert pa.types.is_dictionary(coded.column("userId").type)
    assert pa.types.is_dictionary(coded.column("productId").type)
    assert sorted(coded.column("userId").chunk(0).dictionary.to_pylist()) == ["u_0", "u_1", "u_2"]
    # And every column reads as the same values as without dictionaries, the missing one null
    for name in fields:
        assert coded.column(name).to_pylist() == plain.column(name).to_pylist(), name
    assert coded.column("sampleRate").null_count == 10


def test_json_objects_are_not_taken_for_parquet() -> None:
    # Given NDJSON lake objects, plain and gzip
    text = (json.dumps(_record(1)) + "\n").encode()
    # Then neither is Parquet
    assert not lake_format.is_parquet(text)
    assert not lake_format.is_parquet(gzip.compress(text))
    assert not lake_format.is_parquet(b"")


def test_a_rewrite_keeps_the_objects_codec() -> None:
    # Given an object written uncompressed
    data = lake_format.encode_records([_record(1)], compression="none")
    # Then its codec reads back as such
    assert lake_format.compression_of(data) == "none"
    assert lake_format.compression_of(lake_format.encode_records([_record(2)], compression="none")) == "none"
    assert lake_format.compression_of(lake_format.encode_records([_record(1)])) == "snappy"
