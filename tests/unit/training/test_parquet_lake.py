"""Prepare reads Parquet lake objects (Firehose's record format conversion) to exactly what it reads
from the same records as NDJSON, on the columnar path and on the record path, in a lake of either
format or both; an object whose records the columnar reader cannot promise that for is read
record by record."""

from __future__ import annotations

import gzip
import io
import itertools
import random
from dataclasses import fields
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from recs import lake_format
from recs.training.prepare import columnar
from recs.training.prepare.blocks import EventBlock
from recs.training.prepare.columnar import (
    NotPlainError,
    Usable,
    block_of,
    parquet_blocks,
    usable_from_records,
    usable_of_object,
    usables_of_object,
    usables_of_objects,
)
from recs.training.prepare.days import from_parquet
from recs.training.prepare.interactions import InteractionBuilder
from recs.training.prepare.lake import decode_object
from recs_tools.memory_objects import MemoryObjects
from tests.unit.training.test_columnar import (
    assert_same,
    lines,
    new_path,
    old_path,
    same_records,
    shop_records,
)
from tests.unit.training.test_prepared_days import NOW, decoded_from_scratch, run


def lake_records(rng: random.Random, n: int, start: int = 0) -> list[dict[str, Any]]:
    """A shop's records as ingest writes them, with the event schema's types (the Glue table's:
    whole quantities), prices and empty ids among them."""
    records = shop_records(rng, n, start)
    for record in records:
        if "quantity" in record:
            record["quantity"] = rng.choice([1, 2, 3, 0, -1])
        if record.get("productId") and rng.random() < 0.5:
            record["price"] = round(rng.uniform(1, 99), 2)
        if rng.random() < 0.02:
            record["sessionId"] = ""
    return records


def both_formats(records: list[dict[str, Any]]) -> tuple[bytes, bytes]:
    """The same records as an NDJSON object and as a Parquet object, as Firehose writes each."""
    return lines(*records), lake_format.encode_records(records)


def assert_same_block(expected: EventBlock, actual: EventBlock) -> None:
    for field in fields(EventBlock):
        mine, theirs = getattr(actual, field.name), getattr(expected, field.name)
        if isinstance(theirs, np.ndarray):
            assert np.array_equal(mine, theirs), field.name
            assert mine.dtype == theirs.dtype, field.name
        else:
            assert mine == theirs, field.name


def assert_same_usable(expected: Usable, actual: Usable) -> None:
    assert same_records(actual.table, expected.table)
    assert (actual.read, actual.malformed) == (expected.read, expected.malformed)


def test_a_shop_lake_as_parquet_reads_as_it_reads_as_ndjson() -> None:
    # Given a shop's lake objects, each written as NDJSON and as Parquet
    rng = random.Random(29)
    pairs = [both_formats(lake_records(rng, 400, start)) for start in (0, 400, 800)]
    ndjson, parquet = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    # When each is read into usable records and blocks
    # Then the Parquet objects were read as columns and give the same records and blocks
    for text, data in pairs:
        assert lake_format.is_parquet(data)
        assert sum(batch.num_rows for batch in parquet_blocks(data)) == 400
        assert_same_usable(usable_of_object(text), usable_of_object(data))
        assert_same_block(block_of(usable_of_object(text)), block_of(usable_of_object(data)))
    # And both paths build the same interactions from either format
    expected = old_path(ndjson)
    assert_same(expected, old_path(parquet))
    assert_same(expected, new_path(parquet))
    assert expected.stats["malformed"] > 0


def test_the_record_path_reads_a_parquet_object_as_the_records_ingest_wrote() -> None:
    # Given records written as a Parquet object
    records = lake_records(random.Random(31), 50)
    text, data = both_formats(records)
    # When the record path decodes it
    # Then each record is as the NDJSON line holds it, but for absent (null) fields left out
    assert list(decode_object(data)) == [
        {key: value for key, value in record.items() if value is not None} for record in decode_object(text)
    ]


def test_a_lake_mixing_formats_builds_what_either_format_alone_builds() -> None:
    # Given a lake whose older objects are NDJSON (one gzip) and newer ones Parquet
    rng = random.Random(37)
    batches = [lake_records(rng, 300, start) for start in range(0, 1500, 300)]
    mixed = [
        gzip.compress(lines(*batches[0])),
        lines(*batches[1]),
        lake_format.encode_records(batches[2]),
        lines(*batches[3]),
        lake_format.encode_records(batches[4]),
    ]
    # When both paths build its interactions / Then they are those of the lake in either format
    expected = old_path([lines(*batch) for batch in batches])
    assert_same(expected, old_path(mixed))
    assert_same(expected, new_path(mixed))
    assert_same(expected, new_path([lake_format.encode_records(batch) for batch in batches]))
    # And one day's usable records of both formats make one block, as the kept days do
    whole = Usable.concat([usable_of_object(data) for data in mixed])
    assert_same_usable(Usable.concat([usable_of_object(lines(*batch)) for batch in batches]), whole)


def _event(
    event_id: str | None = "x", timestamp: str = "2026-11-01T00:00:00Z", **extra: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {"eventType": "view", "timestamp": timestamp, "userId": "u1", "productId": "p"}
    if event_id is not None:
        record["eventId"] = event_id
    return record | extra


ODD_RECORDS: dict[str, dict[str, Any]] = {
    # A Parquet null: the record has no eventId (unusable); the columnar reader leaves it to the record path.
    "a null eventId": _event(None),
    "a timestamp without a zone": _event(timestamp="2026-11-01T00:00:00"),
    "a date only": _event(timestamp="2026-11-01"),
    "a one-digit fraction of a second": _event(timestamp="2026-11-01T00:00:00.5Z"),
    "a timestamp with a space": _event(timestamp="2026-11-01 00:00:00Z"),
}


@pytest.mark.parametrize("odd", sorted(ODD_RECORDS))
def test_a_parquet_object_with_an_odd_record_is_read_record_by_record(odd: str) -> None:
    # Given a Parquet object with an odd record beside ordinary ones
    rng = random.Random(41)
    records = [*lake_records(rng, 30), ODD_RECORDS[odd], *lake_records(rng, 30, 30)]
    text, data = both_formats(records)
    # When it is read
    # Then the columnar reader declined it, and its usable records are the record path's
    with pytest.raises(NotPlainError):
        list(parquet_blocks(data))
    assert_same_usable(usable_from_records(lake_format.records(data)), usable_of_object(data))
    # And it builds what the record path builds, from either format
    assert_same(old_path([text]), new_path([data]))
    assert_same(old_path([data]), new_path([data]))


def test_an_odd_record_in_a_later_batch_sends_the_whole_object_record_by_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet object read a few rows at a time, plain until its last batch
    monkeypatch.setattr(columnar, "PARQUET_BATCH_ROWS", 16)
    rng = random.Random(43)
    records = [*lake_records(rng, 100), ODD_RECORDS["a timestamp without a zone"]]
    text, data = both_formats(records)
    blocks = parquet_blocks(data)
    assert next(blocks).num_rows == 16
    # When read / Then the columnar reader declines it after some batches, and both formats agree
    with pytest.raises(NotPlainError):
        list(blocks)
    assert_same_usable(usable_of_object(text), usable_of_object(data))
    assert_same(old_path([text]), new_path([data]))


def test_an_object_read_a_few_rows_at_a_time_reads_as_a_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Parquet objects many times longer than a batch of rows
    monkeypatch.setattr(columnar, "PARQUET_BATCH_ROWS", 7)
    rng = random.Random(47)
    pairs = [both_formats(lake_records(rng, 200, start)) for start in (0, 200)]
    assert len(list(parquet_blocks(pairs[0][1]))) == 29
    # When read / Then they build what their NDJSON builds
    assert_same(old_path([text for text, _ in pairs]), new_path([data for _, data in pairs]))


def read_in_slices(monkeypatch: pytest.MonkeyPatch, *, batch_rows: int, slice_rows: int) -> None:
    """Parquet objects read ``batch_rows`` rows at a time, in slices of ``slice_rows`` records."""
    monkeypatch.setattr(columnar, "PARQUET_BATCH_ROWS", batch_rows)
    monkeypatch.setattr(columnar, "SLICE_ROWS", slice_rows)


def test_a_parquet_object_longer_than_a_slice_comes_in_slices_of_whole_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet object of 100 records, read 8 rows at a time in slices of 20 records
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=20)
    rng = random.Random(53)
    text, data = both_formats(lake_records(rng, 100))
    # When it is read
    slices = list(usables_of_object(data))
    # Then each slice is whole batches, the first that reaches 20 records closing it
    assert [part.read for part in slices] == [24, 24, 24, 24, 4]
    # And together they are the object's usable records, which build what its NDJSON builds
    assert_same_usable(usable_from_records(lake_format.records(data)), Usable.concat(slices))
    builder = InteractionBuilder()
    for part in slices:
        builder.add_block(block_of(part))
    assert_same(old_path([text]), builder.build(start_ts=0.0, end_ts=4e9))


def test_an_odd_record_after_some_slices_reads_only_the_rest_record_by_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet object whose 81st record is odd, read in slices of 16 records
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=16)
    rng = random.Random(59)
    records = [*lake_records(rng, 80), ODD_RECORDS["a date only"], *lake_records(rng, 19, 80)]
    text, data = both_formats(records)
    # When it is read
    slices = list(usables_of_object(data))
    # Then the five slices before it came columnar, and the other 20 records (the odd one among
    # them) record by record: every record read once
    assert [part.read for part in slices] == [16, 16, 16, 16, 16, 20]
    assert slices[-1].malformed >= 1
    assert_same_usable(usable_from_records(lake_format.records(data)), Usable.concat(slices))
    # And the object builds what its NDJSON builds
    assert_same(old_path([text]), new_path([data]))


def built_from_slices(slices: list[Usable]) -> Any:
    builder = InteractionBuilder()
    for part in slices:
        builder.add_block(block_of(part))
    return builder.build(start_ts=0.0, end_ts=4e9)


def small_objects(rng: random.Random, sizes: list[int]) -> tuple[list[bytes], list[bytes]]:
    """Objects of ``sizes`` records each, as NDJSON and as Parquet."""
    pairs, start = [], 0
    for size in sizes:
        pairs.append(both_formats(lake_records(rng, size, start)))
        start += size
    return [text for text, _ in pairs], [data for _, data in pairs]


def test_small_parquet_objects_are_read_as_one_stream_of_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ten Parquet objects of 6 records, read 8 rows at a time in slices of 20 records
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=20)
    texts, objects = small_objects(random.Random(61), [6] * 10)
    # When they are read in order
    slices = list(usables_of_objects(objects))
    # Then their rows are joined: a slice goes before an object that would take it past 20
    assert [part.read for part in slices] == [18, 18, 18, 6]
    # And together they are the objects' usable records, which build what their NDJSON builds
    expected = Usable.concat([usable_from_records(lake_format.records(data)) for data in objects])
    assert_same_usable(expected, Usable.concat(slices))
    assert_same(old_path(texts), built_from_slices(slices))


@pytest.mark.parametrize("odd_object", [3, 5])
def test_an_odd_record_in_a_small_object_reads_every_row_still_waiting_record_by_record(
    monkeypatch: pytest.MonkeyPatch, odd_object: int
) -> None:
    # Given six small Parquet objects, one with an odd record (the fourth, or the last)
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=20)
    rng = random.Random(67)
    texts, objects = small_objects(rng, [6] * 6)
    odd = [*lake_records(rng, 5, 100), ODD_RECORDS["a timestamp without a zone"]]
    texts[odd_object], objects[odd_object] = both_formats(odd)
    # When they are read in order
    slices = list(usables_of_objects(objects))
    # Then the rows waiting with it when it was found (its own, and the next object's joined to
    # them, or none after the last) came record by record, the rest columnar: each row once
    expected_reads = {3: [18, 12, 6], 5: [18, 18]}[odd_object]
    assert [part.read for part in slices] == expected_reads
    assert sum(part.malformed for part in slices) >= 1
    expected = Usable.concat([usable_from_records(lake_format.records(data)) for data in objects])
    assert_same_usable(expected, Usable.concat(slices))
    assert_same(old_path(texts), built_from_slices(slices))


def test_a_large_object_after_small_ones_is_sliced_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two small Parquet objects, one of 30 records (longer than a batch of 8), and a small one
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=20)
    texts, objects = small_objects(random.Random(71), [5, 5, 30, 4])
    # When they are read in order
    slices = list(usables_of_objects(objects))
    # Then the small objects' rows go before the large one's, whose slices are its own (whole
    # batches, the last at its end), and the last object's rows come at the end
    assert [part.read for part in slices] == [10, 24, 6, 4]
    assert_same(old_path(texts), built_from_slices(slices))


def test_small_objects_of_different_column_types_are_joined_as_the_record_path_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given small objects written under tables that differ in a count's type (whole numbers, doubles)
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=20)
    rng = random.Random(73)
    records = [_event(f"e{i}", eventType="purchase") for i in range(4)] + lake_records(rng, 3)
    quantities = pa.array([0.5, 2.0, None, -1.0, None, None, None], pa.float64())
    doubles = _with_column(records, "quantity", quantities)
    _, whole_counts = small_objects(rng, [4, 5])
    objects = [whole_counts[0], doubles, whole_counts[1]]
    # When they are read in order
    slices = list(usables_of_objects(objects))
    # Then they are joined, and read as the record path reads them
    assert [part.read for part in slices] == [16]
    assert_same(old_path(objects), built_from_slices(slices))


def test_a_lake_of_objects_longer_than_a_slice_keeps_days_that_read_back_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet lake whose objects are longer than a slice
    read_in_slices(monkeypatch, batch_rows=8, slice_rows=16)
    lake, artifacts = parquet_lake(ndjson_lake(3)), MemoryObjects()
    # When a first run keeps the closed days and the next one reads them back
    first, _ = run(lake, artifacts)
    again, stats = run(lake, artifacts)
    # Then each kept day holds row groups of up to a slice's 16 records (2 objects of 4 slices; a
    # slice keeps fewer records than it read, so neighbours that fit in 16 go together), and both
    # runs build what the lake's NDJSON builds from scratch
    assert stats.days_kept == 3
    for data in artifacts.objects.values():
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        rows = [meta.row_group(group).num_rows for group in range(meta.num_row_groups)]
        assert 1 < len(rows) <= 8
        assert max(rows) <= 16
        assert all(a + b > 16 for a, b in itertools.pairwise(rows))
    assert_same(decoded_from_scratch(ndjson_lake(3)), first)
    assert_same(first, again)


ID_COLUMNS = ("user", "anon", "product", "category", "session")


def assert_ids_as_encoding_makes_them(usable: Usable) -> None:
    """Each id column of ``usable`` is what dictionary-encoding its texts makes of it: the texts
    its rows use, each once, in order of first appearance."""
    for name in ID_COLUMNS:
        column = usable.table.column(name)
        assert column.num_chunks == 1, name
        expected = pc.dictionary_encode(column.chunk(0).dictionary_decode())
        assert column.chunk(0).dictionary.equals(expected.dictionary), name
        assert column.chunk(0).indices.equals(expected.indices), name


def test_a_parquet_objects_ids_come_from_its_dictionaries_as_encoding_their_texts_makes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet object read 16 rows at a time in slices of 40 records, whose row group's
    # dictionaries list every id of the object, with an empty session id and an event type the
    # model does not know among its records
    read_in_slices(monkeypatch, batch_rows=16, slice_rows=40)
    records = lake_records(random.Random(61), 150)
    records[7]["eventType"] = "not_an_event_type"
    records[9]["sessionId"] = ""
    text, data = both_formats(records)
    # When it is read
    batches = list(parquet_blocks(data))
    slices = list(usables_of_object(data))
    # Then the reader handed the ids and event types over as dictionaries, each batch carrying
    # its row group's whole dictionary
    for field in ("eventType", "userId", "anonId", "productId", "category", "sessionId"):
        assert pa.types.is_dictionary(batches[0].column(field).type), field
    assert len(batches[-1].column("productId").chunk(0).dictionary) > len(
        set(batches[-1].column("productId").to_pylist())
    )
    # And each slice's ids list only the texts its rows use, in order of first appearance
    assert [part.read for part in slices] == [48, 48, 48, 6]
    for part in slices:
        assert_ids_as_encoding_makes_them(part)
    # And the slices are the NDJSON object's usable records: the empty session id is none, the
    # unknown event type a malformed record
    assert_same_usable(usable_of_object(text), Usable.concat(slices))
    assert sum(part.malformed for part in slices) >= 1
    assert_same(old_path([text]), new_path([data]))


def test_an_object_lacking_some_id_columns_reads_as_columns() -> None:
    # Given an object written under an older table, without anonId and category columns
    table = lake_format.table_of_records(lake_records(random.Random(67), 60))
    data = lake_format.encode(table.drop_columns(["anonid", "category"]))
    # When read / Then as columns (the absent ids null), and as the record path reads it
    assert sum(batch.num_rows for batch in parquet_blocks(data)) == 60
    assert_same(old_path([data]), new_path([data]))


def test_an_object_whose_writer_fell_back_from_dictionaries_reads_as_its_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Parquet object of two row groups whose writer gave up its dictionaries part of the
    # way through a column chunk (a dictionary page limit of 256 bytes, checked every 8 rows: the
    # pages after it are plain, as a writer's are for ids too many for its dictionary page), and an
    # object written without dictionaries at all, read 16 rows at a time in slices of 40 records
    read_in_slices(monkeypatch, batch_rows=16, slice_rows=40)
    records = lake_records(random.Random(71), 180)
    text = lines(*records)
    table = lake_format.table_of_records(records)
    sink = io.BytesIO()
    with pq.ParquetWriter(
        sink,
        table.schema,
        compression="none",
        dictionary_pagesize_limit=256,
        data_page_size=256,
        write_batch_size=8,
    ) as writer:
        writer.write_table(table.slice(0, 70), row_group_size=70)
        writer.write_table(table.slice(70, 60), row_group_size=60)
    plain = io.BytesIO()
    pq.write_table(table.slice(130), plain, use_dictionary=False)
    fell_back = sink.getvalue()
    # (the first row group's dictionary page is too small for its distinct session ids: the
    # writer fell back to plain pages for the rest)
    sessions = (
        pq.ParquetFile(pa.BufferReader(fell_back))
        .metadata.row_group(0)
        .column(table.schema.get_field_index("sessionid"))
    )
    assert sessions.has_dictionary_page
    distinct = {session for session in table.slice(0, 70).column("sessionid").to_pylist() if session}
    assert sessions.data_page_offset - sessions.dictionary_page_offset < sum(len(s) + 4 for s in distinct)
    # When each is read / Then as columns, each slice's ids as encoding their texts makes them,
    # and together the records their NDJSON holds
    slices = [*usables_of_object(fell_back), *usables_of_object(plain.getvalue())]
    for part in slices:
        assert_ids_as_encoding_makes_them(part)
    assert sum(batch.num_rows for batch in parquet_blocks(fell_back)) == 130
    assert_same_usable(usable_of_object(text), Usable.concat(slices))
    assert_same(old_path([text]), new_path([fell_back, plain.getvalue()]))


def test_a_batch_whose_dictionary_outnumbers_its_rows_keeps_only_the_texts_it_uses() -> None:
    # Given a batch of 4 rows whose dictionary (its row group's) lists 6 texts
    batch = pa.DictionaryArray.from_arrays(
        pa.array([4, None, 1, 4], pa.int32()), pa.array(["a", "b", "c", "d", "e", "f"])
    )
    # When its ids are taken
    ids = columnar._ids(batch)
    # Then only the texts it uses remain, numbered in order of first appearance
    assert ids.dictionary.to_pylist() == ["e", "b"]
    assert ids.indices.to_pylist() == [0, None, 1, 0]
    assert ids.to_pylist() == batch.to_pylist()
    # And a batch whose dictionary is no longer than its rows is left whole for its slice to cut
    short = pa.DictionaryArray.from_arrays(pa.array([1, 0, 1, 1], pa.int32()), pa.array(["a", "b", "c"]))
    assert columnar._ids(short).dictionary.to_pylist() == ["a", "b", "c"]


def test_an_empty_parquet_object_holds_no_record() -> None:
    # Given a Parquet object of no record (and an empty NDJSON object)
    data = lake_format.encode_records([])
    # When read / Then no record, on either path, as from an empty NDJSON object
    assert lake_format.is_parquet(data)
    assert_same_usable(usable_of_object(b""), usable_of_object(data))
    assert usable_of_object(data).read == 0
    assert list(decode_object(data)) == []
    assert_same(old_path([b""]), new_path([data]))


def _with_column(records: list[dict[str, Any]], name: str, values: pa.Array) -> bytes:
    """The records as a Parquet object whose column ``name`` holds ``values`` (written under
    another table's definition of that column)."""
    table = lake_format.table_of_records(records)
    return lake_format.encode(table.set_column(table.schema.get_field_index(name), name, values))


def test_a_column_of_another_type_is_read_record_by_record() -> None:
    # Given an object whose quantities are text (a table that declared them so)
    rng = random.Random(53)
    records = [_event(f"e{i}", eventType="purchase", quantity=2) for i in range(5)]
    records += lake_records(rng, 20)
    data = _with_column(records, "quantity", pa.array(["2"] * len(records)))
    # When read / Then the columnar reader declines it and its records mean what the record path makes of them
    with pytest.raises(NotPlainError):
        list(parquet_blocks(data))
    assert_same(old_path([data]), new_path([data]))
    assert new_path([data]).quantity.tolist() == [1.0] * len(new_path([data]).quantity)


def test_counts_of_another_numeric_type_read_as_the_record_path_reads_them() -> None:
    # Given an object whose quantities are doubles (a fraction among them) and one without sampleRate
    rng = random.Random(59)
    records = [_event(f"e{i}", eventType="purchase") for i in range(4)] + lake_records(rng, 20)
    quantities = pa.array([0.5, 2.0, None, -1.0] + [None] * 20, pa.float64())
    doubles = _with_column(records, "quantity", quantities)
    table = lake_format.table_of_records(lake_records(rng, 40))
    no_rate = lake_format.encode(table.drop_columns(["samplerate"]))
    # When read / Then as columns, and as the record path reads them
    for data in (doubles, no_rate):
        assert list(parquet_blocks(data))
        assert_same(old_path([data]), new_path([data]))
    assert sorted(set(new_path([doubles]).quantity.tolist())) == [0.5, 1.0, 2.0]


def test_a_corrupt_parquet_object_fails_as_on_the_record_path() -> None:
    # Given an object with Parquet's magic at both ends and nothing readable between
    data = b"PAR1" + b"\x00" * 32 + b"PAR1"
    # When read / Then both paths fail (Prepare does not skip an object it cannot read)
    with pytest.raises((pa.ArrowInvalid, OSError)):
        list(decode_object(data))
    with pytest.raises((pa.ArrowInvalid, OSError)):
        usable_of_object(data)


# ---------------------------------------------------------------------- the kept days
def parquet_lake(lake: MemoryObjects) -> MemoryObjects:
    """The same lake with every object converted as Firehose's conversion writes it."""
    converted = MemoryObjects()
    for key, data in lake.objects.items():
        converted.put(key, lake_format.encode_records(decode_object(data)))
    return converted


def ndjson_lake(days: int) -> MemoryObjects:
    """``days`` closed days and today's first hours of a shop's records (the schema's types)."""
    from tests.unit.training.test_prepared_days import lake_of

    lake = lake_of(days)
    for key, data in list(lake.objects.items()):
        records = list(decode_object(data))
        for record in records:
            if isinstance(record.get("quantity"), float):
                record["quantity"] = 2
        lake.put(key, lines(*records))
    return lake


def test_the_kept_days_of_a_parquet_lake_are_those_of_its_ndjson() -> None:
    # Given a lake of five closed days and today's, as NDJSON and as Parquet
    text = ndjson_lake(5)
    parquet = parquet_lake(text)
    # When Prepare runs over each
    text_kept, parquet_kept = MemoryObjects(), MemoryObjects()
    text_interactions, _ = run(text, text_kept)
    parquet_interactions, stats = run(parquet, parquet_kept)
    # Then the same days are kept with the same usable records, and the same interactions built
    assert stats.days_written == 5
    assert sorted(parquet_kept.objects) == sorted(text_kept.objects)
    for key, data in parquet_kept.objects.items():
        assert_same_usable(from_parquet(text_kept.objects[key]), from_parquet(data))
    assert_same(text_interactions, parquet_interactions)


def test_the_next_run_over_a_lake_turning_parquet_decodes_only_the_new_day() -> None:
    # Given yesterday's run kept the closed days of an NDJSON lake, then Firehose's deliveries
    # turned Parquet: yesterday's objects, and today's, are Parquet now
    lake, artifacts = ndjson_lake(5), MemoryObjects()
    run(lake, artifacts, now=NOW - timedelta(days=1) + timedelta(hours=2))
    converted = parquet_lake(lake)
    for key in lake.objects:
        if key >= f"events/{NOW - timedelta(days=1):%Y/%m/%d}/":
            lake.objects[key] = converted.objects[key]
    # When today's run starts
    interactions, stats = run(lake, artifacts)
    # Then it read the older days from their kept copies, decoded the two days of Parquet, and
    # built what a decode of the mixed lake from scratch builds
    assert (stats.days_kept, stats.days_decoded) == (4, 2)
    assert_same(decoded_from_scratch(lake), interactions)
    assert_same(decoded_from_scratch(converted), interactions)
