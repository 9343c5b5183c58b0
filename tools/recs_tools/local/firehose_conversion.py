"""Firehose's record format conversion (JSON to Parquet), locally.

moto's Firehose writes each PutRecordBatch's records to S3 as they are and ignores an ExtendedS3
destination's ``DataFormatConversionConfiguration``. While `convert_deliveries` is active, a
delivery to a destination that enables conversion is converted as Firehose converts it: every
JSON document of every record (Firehose takes several documents in one record, as our sink packs
them) against the Glue table the configuration names, read from moto's Glue at each delivery
(Firehose's ``VersionId: LATEST``), with the OpenX JSON SerDe's matching (keys to columns without
regard to case; keys the table does not name dropped), and written as one Parquet object (the
table's Hive types; the serializer's compression) under moto's object key plus the destination's
``FileExtension``. A record that does not convert (not JSON, or a value of another type) goes to
the ``ErrorOutputPrefix`` with ``!{firehose:error-output-type}`` as ``format-conversion-failed``,
in Firehose's error document (the record base64 in ``rawData``), never into the lake. Destinations
without conversion keep moto's behaviour.

What it leaves out: Firehose's buffering (moto writes each call at once), its retries, and
Parquet's writer settings other than the compression (block and page sizes).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pyarrow as pa

from recs import lake_format

#: Glue's columns of a table: [{"Name": ..., "Type": ...}, ...].
GlueColumns = Callable[[str, str], Sequence[Mapping[str, str]]]

_HIVE_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "double": pa.float64(),
    "float": pa.float32(),
    "boolean": pa.bool_(),
}
_ARRAY = re.compile(r"^array<(.+)>$")
_DOCUMENTS = json.JSONDecoder()


def arrow_type(hive_type: str) -> pa.DataType:
    """The Parquet (arrow) type Firehose's ParquetSerDe writes for a Glue column's Hive type."""
    text = hive_type.strip().lower()
    array = _ARRAY.match(text)
    if array:
        return pa.list_(arrow_type(array.group(1)))
    if text not in _HIVE_SCALARS:
        raise ValueError(f"the local Firehose conversion does not know the Hive type {hive_type!r}")
    return _HIVE_SCALARS[text]


def parquet_schema(columns: Sequence[Mapping[str, str]]) -> pa.Schema:
    """A Glue table's columns as the Parquet schema Firehose writes (Glue's lower-case names)."""
    return pa.schema([(column["Name"].lower(), arrow_type(column["Type"])) for column in columns])


def json_documents(data: bytes) -> list[dict[str, Any]]:
    """Every JSON document of one Firehose record (``{...}{...}`` or one per line); raises
    `ValueError` for anything else (an array of documents is not valid input either)."""
    text = data.decode("utf-8")
    documents: list[dict[str, Any]] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return documents
        document, position = _DOCUMENTS.raw_decode(text, position)
        if not isinstance(document, dict):
            raise ValueError("a record's documents must be JSON objects")
        documents.append(document)


def _conversion(destination: Mapping[str, Any]) -> Mapping[str, Any] | None:
    conversion = destination.get("DataFormatConversionConfiguration")
    if not conversion or str(conversion.get("Enabled", True)).lower() == "false":
        return None
    return conversion  # type: ignore[no-any-return]


def _compression(conversion: Mapping[str, Any]) -> str:
    serializer = conversion.get("OutputFormatConfiguration", {}).get("Serializer", {})
    if "ParquetSerDe" not in serializer:
        raise ValueError("the local Firehose conversion writes Parquet only")
    codec = str(serializer["ParquetSerDe"].get("Compression", "SNAPPY")).lower()
    return "none" if codec == "uncompressed" else codec


def _error_key(destination: Mapping[str, Any], now: datetime, name: str) -> str:
    prefix = str(destination.get("ErrorOutputPrefix", ""))
    prefix = prefix.replace("!{firehose:error-output-type}", "format-conversion-failed")
    prefix = re.sub(r"!\{timestamp:([^}]+)\}", lambda m: _java_date(now, m.group(1)), prefix)
    return f"{prefix}{name}"


def _java_date(now: datetime, pattern: str) -> str:
    """The Java date patterns Firehose's prefixes use (yyyy, MM, dd, HH)."""
    for java, python in (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H")):
        pattern = pattern.replace(java, python)
    return now.strftime(pattern)


def _error_document(record: bytes, message: str, now: datetime) -> bytes:
    stamp = int(now.timestamp() * 1000)
    document = {
        "attemptsMade": 1,
        "arrivalTimestamp": stamp,
        "lastErrorCode": "DataFormatConversion.ParseError",
        "lastErrorMessage": message,
        "attemptEndingTimestamp": stamp,
        "rawData": base64.b64encode(record).decode("ascii"),
    }
    return (json.dumps(document, separators=(",", ":")) + "\n").encode()


@contextmanager
def convert_deliveries(glue_columns: GlueColumns) -> Iterator[None]:
    """While active, moto's Firehose converts deliveries to destinations that enable it."""
    from moto.core.utils import utcnow
    from moto.firehose.models import FirehoseBackend
    from moto.s3.models import s3_backends

    original = FirehoseBackend.put_s3_records

    def put_s3_records(
        self: Any,
        delivery_stream_name: str,
        version_id: str,
        s3_destination: dict[str, Any],
        records: list[dict[str, bytes]],
    ) -> list[dict[str, str]]:
        conversion = _conversion(s3_destination)
        if conversion is None:
            return original(self, delivery_stream_name, version_id, s3_destination, records)
        schema_configuration = conversion["SchemaConfiguration"]
        schema = parquet_schema(
            glue_columns(schema_configuration["DatabaseName"], schema_configuration["TableName"])
        )
        converted: list[pa.Table] = []
        failed: list[bytes] = []
        now = utcnow().replace(tzinfo=UTC)  # moto's clock, which names the object
        for record in records:
            data = record["Data"]
            try:
                # A record converts whole, or fails whole.
                converted.append(lake_format.table_of_records(json_documents(data), schema))
            except ValueError as error:
                failed.append(_error_document(data, str(error), now))
        s3 = s3_backends[self.account_id][self.partition]
        bucket = s3_destination["BucketARN"].split(":")[-1]
        key = self._format_s3_object_path(delivery_stream_name, version_id, s3_destination.get("Prefix", ""))
        if converted:
            table = pa.concat_tables(converted)
            body = lake_format.encode(table, compression=_compression(conversion))
            s3.put_object(bucket, f"{key}{s3_destination.get('FileExtension', '')}", body)
        if failed:
            s3.put_object(bucket, _error_key(s3_destination, now, key.rsplit("/", 1)[-1]), b"".join(failed))
        return [{"RecordId": f"local-{i}"} for i in range(len(records))]

    with mock.patch.object(FirehoseBackend, "put_s3_records", put_s3_records):
        yield
