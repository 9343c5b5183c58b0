"""The purge and the export's lake reader on Parquet lake objects (Firehose's record format
conversion, `recs.lake_format`): rows found by their columns, not by a search of the object's
bytes, and the same outcome as for the same records in NDJSON, in a lake mixing both."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from recs import lake_format
from recs.privacy.lake_purge import LakePurge
from recs.privacy.visitors import ErasedVisitors
from recs.store_layout import tombstone_key
from recs_tools.memory_objects import MemoryObjects
from tests.unit.privacy.fakes import PSEUDONYMS
from tests.unit.privacy.test_purge import (
    ERASED,
    KEPT,
    LINKED,
    OTHER_ANON,
    World,
    assert_the_erased_users_purge_counted,
    lake_objects,
    record,
)


def line(n: int, user: str | None = None, anon: str | None = None, **extra: Any) -> bytes:
    """`test_purge.record` with more fields."""
    fields = {**json.loads(record(n, user, anon)), **extra}
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def parquet(lines: bytes, compression: str = lake_format.COMPRESSION) -> bytes:
    """NDJSON lines as the Parquet object Firehose's conversion writes for the same records."""
    text = gzip.decompress(lines) if lines[:2] == b"\x1f\x8b" else lines
    return lake_format.encode_records(
        [json.loads(line) for line in text.splitlines()], compression=compression
    )


def records_of(data: bytes) -> list[dict[str, Any]]:
    """A lake object's records, whichever its format."""
    if lake_format.is_parquet(data):
        return list(lake_format.records(data))
    text = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return [json.loads(line) for line in text.splitlines()]


def lake_records(world: World) -> dict[str, list[dict[str, Any]]]:
    return {key: records_of(data) for key, data in sorted(world.lake.objects.items())}


def erased(*pseudonyms: str) -> ErasedVisitors:
    return ErasedVisitors({PSEUDONYMS.tombstone(p) for p in pseudonyms}, PSEUDONYMS.tombstone)


#: Which of `lake_objects()`'s four objects are Parquet, and with which codec.
ALL_PARQUET = {
    "events/2026/11/20/10/a.gz": "snappy",
    "events/2026/11/21/10/b": "zstd",
    "events/2026/11/22/10/c": "gzip",
    "events/2026/11/23/10/d": "none",
}
MIXED = {"events/2026/11/21/10/b": "snappy", "events/2026/11/23/10/d": "snappy"}


def lake_with_parquet(codecs: dict[str, str]) -> dict[str, bytes]:
    """`lake_objects()` with the named objects written as Parquet, the others left NDJSON."""
    return {
        key: parquet(data, codecs[key]) if key in codecs else data for key, data in lake_objects().items()
    }


def test_the_purge_removes_the_user_and_their_linked_anonymous_id_from_parquet_objects() -> None:
    # Given a lake of Parquet objects (four codecs), the erased user logging in once from LINKED
    world = World(lake_with_parquet(ALL_PARQUET))
    receipt_id = world.privacy.request_erasure("erased_user")["receiptId"]
    before = dict(world.lake.objects)
    # When the purge runs
    report = world.purge.run().as_dict()
    # Then no record names the user or LINKED, and every other record is kept as it was
    assert lake_records(world) == {
        "events/2026/11/20/10/a.gz": [json.loads(record(2, KEPT)), json.loads(record(3, None, OTHER_ANON))],
        "events/2026/11/21/10/b": [json.loads(record(5, KEPT))],
        "events/2026/11/23/10/d": [json.loads(record(7, KEPT)), json.loads(record(8, None, OTHER_ANON))],
    }
    # And each rewritten object is Parquet still, with its own codec; the untouched one was not
    # written at all; the emptied one is deleted
    for key in ("events/2026/11/20/10/a.gz", "events/2026/11/21/10/b"):
        assert lake_format.compression_of(world.lake.objects[key]) == ALL_PARQUET[key]
    assert world.lake.objects["events/2026/11/23/10/d"] is before["events/2026/11/23/10/d"]
    assert "events/2026/11/22/10/c" not in world.lake.objects
    # And the counts are those of the same records in NDJSON (test_purge.py)
    assert_the_erased_users_purge_counted(world, report, receipt_id)
    assert world.scrub.forgotten_days == ["2026/11/20", "2026/11/21", "2026/11/22"]


def lake_with_a_login_on_linked(codecs: dict[str, str]) -> dict[str, bytes]:
    """`lake_with_parquet`, with a record of KEPT signed in on LINKED beside LINKED's own."""
    objects = lake_objects()
    objects["events/2026/11/21/10/b"] += record(10, KEPT, LINKED)
    return {key: parquet(data, codecs[key]) if key in codecs else data for key, data in objects.items()}


@pytest.mark.parametrize("codecs", [MIXED, ALL_PARQUET], ids=["mixed", "all-parquet"])
@pytest.mark.parametrize("erase", ["user", "anonymous"])
def test_a_lake_holding_parquet_is_purged_as_the_same_records_in_ndjson(
    codecs: dict[str, str], erase: str
) -> None:
    # Given the same records in an NDJSON lake and in a lake holding Parquet objects, and an
    # erasure of the user (who logged in from LINKED, which goes with them) or of LINKED by its
    # holder; KEPT also signed in on that browser: their record is kept without the id either way
    ndjson = World(lake_with_a_login_on_linked({}))
    parquet_lake = World(lake_with_a_login_on_linked(codecs))
    for world in (ndjson, parquet_lake):
        if erase == "user":
            world.privacy.request_erasure("erased_user")
        else:
            world.privacy.request_anonymous_erasure("anon_linked")
    # When both are purged
    expected, report = ndjson.purge.run().as_dict(), parquet_lake.purge.run().as_dict()
    # Then the reports are the same, and so is every record left, object by object
    assert report == expected
    assert lake_records(parquet_lake) == lake_records(ndjson)
    assert report["lakeRecordsRemoved"] > 0
    # (KEPT's login on LINKED; for LINKED's own erasure, the user's too, who is not erased then)
    assert report["lakeAnonymousIdsDetached"] == (2 if erase == "anonymous" else 1)
    # And the Parquet objects left are Parquet still
    for key, codec in codecs.items():
        if key in parquet_lake.lake.objects:
            assert lake_format.compression_of(parquet_lake.lake.objects[key]) == codec


def test_a_signed_in_users_parquet_row_keeps_every_field_but_the_erased_anonymous_id() -> None:
    # Given KEPT's purchase made while signed in on LINKED's browser, every field present
    row = {
        "eventId": "e1",
        "eventType": "purchase",
        "timestamp": "2026-11-21T10:00:00.123000Z",
        "sessionId": PSEUDONYMS.session("s1"),
        "productId": "sku_1",
        "category": "shoes",
        "quantity": 2,
        "price": 9.5,
        "context": "cart",
        "recommendationId": "r1",
        "query": "red shoes",
        "results": ["sku_1", "sku_2"],
        "sampleRate": 4,
        "userId": KEPT,
        "anonId": LINKED,
        "receivedAt": "2026-11-21T10:00:01Z",
        "schemaVersion": 1,
    }
    lake = MemoryObjects({"events/2026/11/21/10/b": lake_format.encode_records([row])})
    # When LINKED is erased and the lake rewritten
    outcome = LakePurge(lake, "events/", erased(LINKED)).rewrite(["events/2026/11/21/10/b"])
    # Then the row is kept with everything but its anonId, which is gone from the object
    (kept,) = lake_format.records(lake.objects["events/2026/11/21/10/b"])
    assert kept == {field: value for field, value in row.items() if field != "anonId"}
    assert lake_format.read_table(lake.objects["events/2026/11/21/10/b"]).column("anonid").null_count == 1
    assert (outcome.records_removed, outcome.anonymous_ids_detached) == (0, 1)
    assert outcome.objects_by_visitor == {LINKED: {"events/2026/11/21/10/b"}}


def test_a_pseudonym_typed_into_another_column_removes_the_parquet_row_like_the_ndjson_line() -> None:
    # Given rows naming the erased user only in a search query or in a list of results, and a
    # signed-in row whose erased anonId comes with the erased user in its query (not detached:
    # an erased id is left in it)
    rows = [
        line(1, KEPT, query=f"who is {ERASED}"),
        line(2, None, OTHER_ANON, results=["sku_1", ERASED]),
        line(3, KEPT, LINKED, query=ERASED),
        line(4, KEPT, query="nothing to see"),
    ]
    visitors = erased(ERASED, LINKED)
    text = MemoryObjects({"events/x": b"".join(rows)})
    columns = MemoryObjects({"events/x": parquet(b"".join(rows))})
    # When each lake is rewritten
    from_text = LakePurge(text, "events/", visitors).rewrite(["events/x"])
    from_columns = LakePurge(columns, "events/", visitors).rewrite(["events/x"])
    # Then the same three records go, attributed alike (the third to its erased anonymous id), and
    # the fourth is kept
    assert from_columns == from_text
    assert from_columns.removed_by_visitor == {ERASED: 2, LINKED: 1}
    assert records_of(columns.objects["events/x"]) == records_of(text.objects["events/x"])
    assert [r["eventId"] for r in records_of(columns.objects["events/x"])] == ["e4"]


def test_an_object_whose_codec_hides_the_ids_from_a_byte_search_is_still_purged() -> None:
    # Given a compressed Parquet object of 20 users in which no byte search finds the erased one
    # (neither the smallest nor the largest id: the footer's statistics name those in clear)
    users = sorted(PSEUDONYMS.user(f"shopper_{n}") for n in range(20))
    gone = users[10]
    data = parquet(b"".join(record(n, users[n % 20]) for n in range(60)), "zstd")
    assert gone.encode() not in data
    assert not erased(gone).erased_in_bytes(data)
    lake = MemoryObjects({"events/x": data})
    # When the lake is rewritten
    outcome = LakePurge(lake, "events/", erased(gone)).rewrite(["events/x"])
    # Then the user's 3 rows are gone, the other 57 kept
    assert outcome.records_removed == 3
    assert outcome.removed_by_visitor == {gone: 3}
    kept = [r["userId"] for r in records_of(lake.objects["events/x"])]
    assert len(kept) == 57
    assert gone not in kept


def test_parquet_objects_without_an_erased_visitor_are_not_written() -> None:
    # Given Parquet objects of visitors who are not erased, one of them empty
    objects = {
        "events/a": parquet(record(1, KEPT) + record(2, None, OTHER_ANON)),
        "events/b": lake_format.encode_records([]),
    }
    lake = MemoryObjects(objects)
    # When the lake is rewritten for an erased user
    outcome = LakePurge(lake, "events/", erased(ERASED)).rewrite(sorted(objects))
    # Then both are read and neither is written (the very same bytes are there)
    assert (outcome.objects_read, outcome.objects_rewritten, outcome.objects_deleted) == (2, 0, 0)
    assert all(lake.objects[key] is objects[key] for key in objects)


def test_an_object_written_under_an_older_table_keeps_its_own_columns() -> None:
    # Given a Parquet object without the anonId and sampleRate columns (an older table)
    table = lake_format.table_of_records(
        [json.loads(record(1, ERASED)), json.loads(record(2, KEPT))]
    ).drop_columns(["anonid", "samplerate"])
    lake = MemoryObjects({"events/x": lake_format.encode(table)})
    # When the erased user's rows are removed
    purge = LakePurge(lake, "events/", erased(ERASED))
    assert purge.find_links(["events/x"]) == {}
    outcome = purge.rewrite(["events/x"])
    # Then the other row is kept, and the object has the columns it had
    assert outcome.records_removed == 1
    rewritten = lake_format.read_table(lake.objects["events/x"])
    assert rewritten.column_names == table.column_names
    assert rewritten.to_pylist() == table.slice(1).to_pylist()


def test_the_export_reads_the_same_records_from_parquet_as_from_ndjson() -> None:
    # Given the same records as NDJSON and as Parquet objects (the user's own, a login from
    # LINKED, LINKED's anonymous ones, and other shoppers')
    ndjson = MemoryObjects(lake_with_a_login_on_linked({}))
    mixed = MemoryObjects(lake_with_a_login_on_linked(MIXED))
    columns = MemoryObjects(lake_with_a_login_on_linked(ALL_PARQUET))
    found = {}
    for name, lake in (("ndjson", ndjson), ("mixed", mixed), ("parquet", columns)):
        # When the export's reader finds the user's links, then their records
        visitors = erased(ERASED)
        reader = LakePurge(lake, "events/", visitors)
        links = reader.find_links(reader.keys())
        for anonymous in links:
            visitors.add(visitors.tombstone(anonymous))
        found[name] = (links, list(reader.records(reader.keys())))
    # Then every lake gives the same links and the same records, in the same order
    assert found["parquet"] == found["ndjson"]
    assert found["mixed"] == found["ndjson"]
    links, records = found["parquet"]
    assert links == {LINKED: ERASED}
    assert [r["eventId"] for r in records] == ["e1", "e4", "e10", "e6"]


def test_the_late_event_sweep_removes_a_late_parquet_record() -> None:
    # Given an erasure completed by a run at 12:00, then a late Parquet object in the next hour's
    # partition holding a record of that user (with an anonymous id) and one of another shopper
    world = World(lake_with_parquet(ALL_PARQUET))
    world.privacy.request_erasure("erased_user")
    world.purge.run()
    late_key = "events/2026/11/26/13/late"
    world.lake.objects[late_key] = parquet(record(9, ERASED, OTHER_ANON) + record(10, KEPT))
    reads = world.lake.reads
    # When the next run has no erasure pending
    report = world.purge.run().as_dict()
    # Then the late record is gone, its anonymous id linked and tombstoned, the other kept
    assert records_of(world.lake.objects[late_key]) == [json.loads(record(10, KEPT))]
    assert report["lakeRecordsRemoved"] == 1
    assert report["linkedAnonymousIds"] == 1
    assert tombstone_key(PSEUDONYMS.tombstone(OTHER_ANON)) in world.state.items
    # And only the new partition was read (links, then rewrite)
    assert report["lakeObjectsRead"] == 1
    assert world.lake.reads - reads == 2
