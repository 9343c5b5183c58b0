"""The event lake's object formats: Parquet, as Firehose's record format conversion writes it, and
NDJSON, as deliveries before it wrote (gzip in AWS, plain under moto).

Firehose converts each delivery's JSON records to Parquet against the Glue table `EventsTable`
(template.yaml): one column per field of `LakeRecord`, named in lower case as Glue stores names
(the OpenX JSON SerDe matches a record's keys to them without regard to case), with the table's
Hive types (`string`, `int`, `double`, `array<string>`); times stay the ISO-8601 text ingest wrote.
A field the table does not name is dropped; a record it cannot convert goes to the delivery
stream's error prefix, never to the lake (ingest validates every record as a `LakeEvent` first).

This module is what every reader and writer of lake objects shares: which format an object is in
(by content, so a lake holding both formats reads as one), a Parquet object's rows as the record
dicts ingest wrote (absent fields left out, as ingest leaves them out of its JSON), its columns as
a table named by the record's fields, and records written as Firehose writes them (the local
stack's delivery stream, the erasure purge's rewrites, tests and benchmarks).

Only functions that carry the arrow layer import it (import-linter contracts in pyproject.toml).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, get_args, get_origin, get_type_hints

import pyarrow as pa
import pyarrow.parquet as pq

from recs.contracts.events import LakeRecord

_MAGIC = b"PAR1"
#: Firehose's ParquetSerDe compresses with Snappy unless the stream says otherwise (template.yaml).
COMPRESSION = "snappy"


def _arrow_type(annotation: Any) -> pa.DataType:
    """The Parquet type Firehose writes for a record field, by its Hive type in the Glue table."""
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return pa.list_(_arrow_type(item))
    if annotation is int:
        return pa.int32()  # Hive `int`
    if annotation is float:
        return pa.float64()  # Hive `double`
    return pa.string()  # str, the event type's value, and times as ISO-8601 text


#: A record's fields in the order of `LakeRecord` (and of the Glue table's columns).
RECORD_FIELDS: tuple[str, ...] = tuple(get_type_hints(LakeRecord))
#: The lake's Parquet schema: the Glue table's columns, lower-case names.
SCHEMA = pa.schema(
    [(name.lower(), _arrow_type(annotation)) for name, annotation in get_type_hints(LakeRecord).items()]
)
#: A record field's name, by the lower-case column name Firehose writes.
FIELD_OF_COLUMN: dict[str, str] = {name.lower(): name for name in RECORD_FIELDS}


def is_parquet(data: bytes) -> bool:
    """Whether a lake object is Parquet (Firehose's conversion) rather than NDJSON: a Parquet file
    begins and ends with its magic; JSON text (or gzip) begins with neither."""
    return len(data) >= 8 and data[:4] == _MAGIC and data[-4:] == _MAGIC


def parquet_file(data: bytes | pq.ParquetFile) -> pq.ParquetFile:
    """A Parquet lake object opened (its footer parsed once), for several reads of it."""
    return data if isinstance(data, pq.ParquetFile) else pq.ParquetFile(pa.BufferReader(data))


def read_fields(
    data: bytes | pq.ParquetFile,
    fields: Sequence[str],
    *,
    batch_rows: int = 65_536,
    dictionaries: Sequence[str] = (),
) -> Iterator[pa.Table]:
    """A Parquet lake object's ``fields`` (record field names), ``batch_rows`` rows at a time, as
    tables whose columns are named by those fields; a field the object has no column for (written
    under an older table) reads as nulls of its type.

    The text fields among ``dictionaries`` come as dictionary arrays (``data`` given as bytes): the
    reader hands over the column chunk's dictionary and each row's index into it rather than a
    copy of every row's text. Each batch carries the whole row group's dictionary, not only the
    values its rows use."""
    source = _with_dictionaries(data, [name.lower() for name in dictionaries])
    present = set(source.schema_arrow.names)
    columns = [name.lower() for name in fields if name.lower() in present]
    for batch in source.iter_batches(batch_size=batch_rows, columns=columns, use_threads=False):
        table = pa.Table.from_batches([batch])
        yield pa.table(
            {
                name: table.column(name.lower())
                if name.lower() in present
                else pa.nulls(table.num_rows, SCHEMA.field(name.lower()).type)
                for name in fields
            }
        )


def _with_dictionaries(data: bytes | pq.ParquetFile, columns: list[str]) -> pq.ParquetFile:
    """``data`` opened, those of ``columns`` it has read as dictionaries (``data`` given as bytes)."""
    if not columns or not isinstance(data, bytes):
        return parquet_file(data)
    try:
        # An object written under the current table has every column: opened once.
        return pq.ParquetFile(pa.BufferReader(data), read_dictionary=columns)
    except KeyError:
        # The reader refuses a dictionary column the object has not (an older object may lack
        # one): opened again, on the footer already parsed, with those it has.
        source = parquet_file(data)
        present = set(source.schema_arrow.names)
        coded = [name for name in columns if name in present]
        return pq.ParquetFile(pa.BufferReader(data), metadata=source.metadata, read_dictionary=coded)


def read_table(data: bytes | pq.ParquetFile) -> pa.Table:
    """A Parquet lake object, every column, names as Firehose wrote them (lower case)."""
    return parquet_file(data).read(use_threads=False)


def records(data: bytes) -> Iterator[dict[str, Any]]:
    """A Parquet lake object's rows as the records ingest wrote: the record's field names, absent
    (null) fields left out."""
    source = parquet_file(data)
    for batch in source.iter_batches(batch_size=4096, use_threads=False):
        names = [FIELD_OF_COLUMN.get(name, name) for name in batch.schema.names]
        for row in batch.to_pylist():
            yield {
                field: value for field, value in zip(names, row.values(), strict=True) if value is not None
            }


def table_of_records(rows: Iterable[Mapping[str, Any]], schema: pa.Schema = SCHEMA) -> pa.Table:
    """Records (JSON-decoded lake records) as a Parquet table of ``schema`` (the lake's unless
    given), converted as Firehose's OpenX JSON SerDe converts them: keys matched to columns without
    regard to case, keys the table does not name dropped. A value of another type raises
    `ValueError` naming the field."""
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for row in rows:
        lowered = {key.lower(): value for key, value in row.items()}
        for name, values in columns.items():
            values.append(lowered.get(name))
    arrays = []
    for field in schema:
        try:
            arrays.append(pa.array(columns[field.name], type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as error:
            raise ValueError(f"{FIELD_OF_COLUMN.get(field.name, field.name)}: {error}") from error
    return pa.Table.from_arrays(arrays, schema=schema)


def encode(table: pa.Table, *, compression: str = COMPRESSION) -> bytes:
    """A table of the lake's schema as one Parquet object (one row group, as Firehose writes a
    delivery's records)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=compression, row_group_size=max(table.num_rows, 1))
    return sink.getvalue()


def encode_records(rows: Iterable[Mapping[str, Any]], *, compression: str = COMPRESSION) -> bytes:
    """Records as one Parquet lake object, as Firehose's conversion writes them."""
    return encode(table_of_records(rows), compression=compression)


def compression_of(data: bytes) -> str:
    """The codec a Parquet object's columns are compressed with (a rewrite keeps it)."""
    metadata = parquet_file(data).metadata
    if metadata.num_row_groups == 0 or metadata.num_columns == 0:
        return COMPRESSION
    codec = str(metadata.row_group(0).column(0).compression).lower()
    # pyarrow writes "none" for what Parquet's metadata calls UNCOMPRESSED.
    return "none" if codec == "uncompressed" else codec
