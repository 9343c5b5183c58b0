"""The columnar lake reader builds exactly what the record path builds from the same objects:
the same interactions, indices, categories and counts, down to every malformed record."""

from __future__ import annotations

import gzip
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from recs.training.prepare import columnar
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.columnar import (
    USABLE_FIELDS,
    NotPlainError,
    Usable,
    _id_halves,
    block_of,
    raw_blocks,
    read_table,
    usable_from_records,
    usable_of_object,
)
from recs.training.prepare.interactions import InteractionBuilder, Interactions, event_id_halves
from recs.training.prepare.lake import decode_object
from recs.training.prepare.matrix import confidence_matrix

#: "remove_from_cart" is no event type of the schema: the records that carry it are malformed.
EVENT_TYPES = (
    "view",
    "click",
    "add_to_cart",
    "purchase",
    "search",
    "search_result_click",
    "remove_from_cart",
)


def lines(*records: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def old_path(objects: list[bytes], known_product: Callable[[str], bool] | None = None) -> Interactions:
    builder = InteractionBuilder()
    for data in objects:
        builder.add_all(decode_object(data))
    return builder.build(start_ts=0.0, end_ts=4e9, known_product=known_product)


def new_path(objects: list[bytes], known_product: Callable[[str], bool] | None = None) -> Interactions:
    builder = InteractionBuilder()
    for data in objects:
        builder.add_block(block_of(usable_of_object(data)))
    return builder.build(start_ts=0.0, end_ts=4e9, known_product=known_product)


def assert_same(expected: Interactions, actual: Interactions) -> None:
    assert actual.users == expected.users
    assert actual.items == expected.items
    assert actual.item_category == expected.item_category
    for name in ("is_user", "user", "item", "event", "timestamp", "quantity", "basket", "weight"):
        mine, theirs = getattr(actual, name), getattr(expected, name)
        assert (mine is None) == (theirs is None), name
        if mine is not None:
            assert np.array_equal(mine, theirs), name
            assert mine.dtype == theirs.dtype, name
    assert actual.stats == expected.stats


def shop_records(rng: random.Random, n: int, start: int = 0) -> list[dict[str, Any]]:
    """Records as the ingest writes them: ids, optional user, categories, quantities, retries."""
    records: list[dict[str, Any]] = []
    for _ in range(start, start + n):
        kind = rng.choice(EVENT_TYPES)
        record: dict[str, Any] = {
            "eventId": str(uuid.UUID(int=rng.getrandbits(128))),
            "eventType": kind,
            "timestamp": f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
            f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}Z",
            "anonId": f"a_{rng.randint(0, 30):032x}",
            "sessionId": f"s_{rng.randint(0, 60)}",
            "receivedAt": "2026-12-01T00:00:00Z",
            "results": [f"sku_{rng.randint(0, 9)}"] * rng.randint(0, 3),
        }
        if rng.random() < 0.5:
            record["userId"] = f"u_{rng.randint(0, 20):032x}"
        if kind != "search":
            record["productId"] = f"sku_{rng.randint(0, 40)}"
            if rng.random() < 0.7:
                record["category"] = rng.choice(["shoes", "books", "toys"])
        if kind == "purchase":
            record["quantity"] = rng.choice([1, 2, 3, 0.5])
        if kind == "view" and rng.random() < 0.5:
            record["sampleRate"] = 4  # the shop keeps one view in four (recs.ingest.sampling)
        if records and rng.random() < 0.05:
            record = dict(records[-1])  # a client retry: the same event again
        records.append(record)
    return records


def test_a_shop_lake_gives_the_same_interactions_both_ways() -> None:
    # Given three lake objects of a shop's events, one gzip as Firehose writes in AWS
    rng = random.Random(7)
    objects = [lines(*shop_records(rng, 400, start)) for start in (0, 400, 800)]
    objects[1] = gzip.compress(objects[1])
    # When both readers build the interactions / Then they are the same
    assert all(read_table(gzip.decompress(o) if o[:2] == b"\x1f\x8b" else o) is not None for o in objects)
    assert_same(old_path(objects), new_path(objects))


def test_both_readers_leave_out_products_outside_the_catalog_alike() -> None:
    # Given a shop's lake objects and a catalog export listing only half its products
    rng = random.Random(11)
    objects = [lines(*shop_records(rng, 400, start)) for start in (0, 400)]
    catalog = Catalog.from_jsonl(json.dumps({"id": f"sku_{n}"}) for n in range(0, 41, 2))
    # When both readers build the interactions with the catalog
    old, new = old_path(objects, catalog.known_product()), new_path(objects, catalog.known_product())
    # Then they are the same, hold only listed products, and count the events left out
    assert_same(old, new)
    assert set(new.items) <= set(catalog.entries)
    unknown = old_path(objects).stats["interactions"] - new.stats["interactions"]
    assert new.stats["unknownProductEvents"] == unknown > 0


QUIRKS: dict[str, bytes] = {
    # Each is a record the record path reads in its own way; the object holding it goes that way.
    "a numeric eventId": lines({"eventId": 5, "eventType": "view", "timestamp": "2026-11-01T00:00:00Z"}),
    "a null eventId": lines(
        {
            "eventId": None,
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00Z",
            "userId": "u1",
            "productId": "p",
        }
    ),
    "a timestamp without a zone": lines(
        {
            "eventId": "x",
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00",
            "userId": "u1",
            "productId": "p",
        }
    ),
    "a date only": lines(
        {"eventId": "x", "eventType": "view", "timestamp": "2026-11-01", "userId": "u1", "productId": "p"}
    ),
    "a boolean quantity": lines(
        {
            "eventId": "x",
            "eventType": "purchase",
            "timestamp": "2026-11-01T00:00:00Z",
            "userId": "u1",
            "productId": "p",
            "quantity": True,
        }
    ),
    "a numeric product id": lines(
        {
            "eventId": "x",
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00Z",
            "anonId": "a1",
            "productId": 42,
        }
    ),
    "a missing eventId": lines(
        {"eventType": "view", "timestamp": "2026-11-01T00:00:00Z", "userId": "u1", "productId": "p"}
    ),
    "a one-digit fraction of a second": lines(
        {
            "eventId": "x",
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00.5Z",
            "userId": "u1",
            "productId": "p",
        }
    ),
    "a top-level array": b'[1, 2]\n{"eventId": "x"}\n',
    "a repeated key": b'{"eventId": "x", "eventId": "y", "eventType": "view",'
    b' "timestamp": "2026-11-01T00:00:00Z", "userId": "u", "productId": "p"}\n',
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_an_object_the_columnar_reader_refuses_is_read_record_by_record(quirk: str) -> None:
    # Given an object with a quirk beside ordinary records
    rng = random.Random(3)
    data = lines(*shop_records(rng, 30)) + QUIRKS[quirk] + lines(*shop_records(rng, 30, 30))
    # When both readers build the interactions / Then the columnar reader declined and they agree
    assert read_table(data) is None
    assert_same(old_path([data]), new_path([data]))


def test_unusable_records_are_counted_alike_on_the_columnar_path() -> None:
    # Given records the columnar reader takes but the model cannot use, and edge values it must read alike
    data = (
        lines(
            {"eventId": "a", "eventType": "teleport", "timestamp": "2026-11-01T00:00:00Z", "userId": "u1"},
            {"eventId": "b", "eventType": "view", "timestamp": "2026-11-01T00:00:00Z"},
            {
                "eventId": "c",
                "eventType": "view",
                "timestamp": "2026-11-01T00:00:00Z",
                "userId": "",
                "anonId": "",
            },
            {"eventId": "d", "timestamp": "2026-11-01T00:00:00Z", "userId": "u1", "productId": "p"},
            {"eventId": "e", "eventType": "search", "timestamp": "2026-11-01T00:00:01+02:00", "userId": "u1"},
            {
                "eventId": "f",
                "eventType": "purchase",
                "timestamp": "2026-11-01T00:00:02.500Z",
                "userId": "u1",
                "productId": "p",
                "quantity": -3,
                "category": "",
            },
            {
                "eventId": "F0E1D2C3-B4A5-4697-8877-665544332211",
                "eventType": "view",
                "timestamp": "2026-11-01T00:00:03.123+05:30",
                "anonId": "a1",
                "userId": "u2",
                "productId": "q",
                "sessionId": "",
                "category": "books",
            },
            {
                "eventId": "not-a-uuid",
                "eventType": "purchase",
                "timestamp": "2026-11-01T00:00:04Z",
                "anonId": "a1",
                "productId": "q",
                "quantity": 2,
                "category": "toys",
                "sessionId": "s1",
            },
        )
        + b"\n   \n"
    )
    # When both readers build the interactions / Then the columnar reader took it and they agree
    assert read_table(data) is not None
    expected = old_path([data])
    assert expected.stats["malformed"] == 4
    assert_same(expected, new_path([data]))


def test_eventid_halves_decode_like_the_record_path() -> None:
    # Given canonical, upper-case and other ids
    import pyarrow as pa

    ids = [str(uuid.UUID(int=random.Random(1).getrandbits(128))) for _ in range(5)]
    ids += [
        "ABCDEF01-2345-6789-ABCD-EF0123456789",
        "evt-17",
        "0x12",
        "",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ]
    # When decoded at once / Then each matches event_id_halves
    high, low = _id_halves(pa.array(ids))
    assert [(int(h), int(lo)) for h, lo in zip(high, low, strict=True)] == [event_id_halves(i) for i in ids]


def same_records(actual: pa.Table, expected: pa.Table) -> bool:
    """The same records, each id the same text: how each reader encoded its ids aside (a
    dictionary may list ids only filtered-out records had)."""
    as_text = pa.schema(
        [pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in USABLE_FIELDS]
    )
    return bool(actual.cast(as_text).equals(expected.cast(as_text)))


def test_records_and_columns_give_the_same_usable_table() -> None:
    # Given an ordinary object
    data = lines(*shop_records(random.Random(11), 200))
    # When read both ways into usable records / Then the tables are equal
    by_columns = usable_of_object(data)
    by_records = usable_from_records(decode_object(data))
    assert same_records(by_columns.table, by_records.table)
    assert (by_columns.read, by_columns.malformed) == (by_records.read, by_records.malformed)


def test_concatenated_objects_build_what_the_objects_build_one_by_one() -> None:
    # Given four objects
    rng = random.Random(5)
    objects = [lines(*shop_records(rng, 100, 100 * i)) for i in range(4)]
    # When a whole day's usable records become one block
    builder = InteractionBuilder()
    builder.add_block(block_of(Usable.concat([usable_of_object(o) for o in objects])))
    # Then it is what the record path builds
    assert_same(old_path(objects), builder.build(start_ts=0.0, end_ts=4e9))


def test_a_sampled_view_stands_for_its_rate_in_the_confidence() -> None:
    # Given two users who each viewed one product: one view kept with sampleRate 4, one unsampled
    data = lines(
        {
            "eventId": "a",
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00Z",
            "userId": "u1",
            "productId": "p",
            "sampleRate": 4,
        },
        {
            "eventId": "b",
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00Z",
            "userId": "u2",
            "productId": "p",
        },
    )
    # When read both ways
    expected, actual = old_path([data]), new_path([data])
    # Then the weights are 4 and 1, and the confidence of the sampled view is four views'
    assert_same(expected, actual)
    assert actual.weight is not None
    assert actual.weight.tolist() == [4.0, 1.0]
    confidence = confidence_matrix(actual, {"view": 1.0}, now_ts=0.0)
    assert confidence.toarray().ravel().tolist() == [4.0, 1.0]


def test_without_sampled_events_no_weights_are_kept() -> None:
    # Given events without sampleRate / When built / Then no weight column is held
    data = lines(*shop_records(random.Random(2), 50))
    data = b"".join(line for line in data.splitlines(keepends=True) if b"sampleRate" not in line)
    assert new_path([data]).weight is None


def test_an_object_read_a_block_of_text_at_a_time_builds_what_the_record_path_builds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given objects many times longer than the reader's block of text
    monkeypatch.setattr(columnar, "_BLOCK_BYTES", 4096)
    rng = random.Random(17)
    objects = [lines(*shop_records(rng, 300, start)) for start in (0, 300)]
    assert len(list(raw_blocks(objects[0]))) > 10
    # When both readers build the interactions / Then they are the same
    assert_same(old_path(objects), new_path(objects))


def test_a_quirk_in_a_later_block_sends_the_whole_object_record_by_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an object whose blocks of text are plain until a late one holds a quirk
    monkeypatch.setattr(columnar, "_BLOCK_BYTES", 4096)
    rng = random.Random(19)
    data = lines(*shop_records(rng, 200)) + QUIRKS["a timestamp without a zone"]
    # When read / Then the columnar reader declines it after reading some blocks, and both agree
    with pytest.raises(NotPlainError):
        for _ in raw_blocks(data):
            pass
    assert read_table(data) is None
    assert_same(old_path([data]), new_path([data]))


def test_a_line_longer_than_a_block_is_read_record_by_record(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an object with one record longer than the reader's block of text
    monkeypatch.setattr(columnar, "_BLOCK_BYTES", 4096)
    rng = random.Random(23)
    long = shop_records(rng, 1)[0] | {"results": ["sku_1"] * 2_000}
    data = lines(*shop_records(rng, 20), long, *shop_records(rng, 20, 20))
    # When both readers build the interactions / Then the columnar one declined, and they agree
    assert read_table(data) is None
    assert_same(old_path([data]), new_path([data]))


def test_a_session_first_seen_on_a_search_is_numbered_as_the_record_path_numbers_it() -> None:
    # Given a search opening session s9 (no product), then views in sessions s1 and s9
    stamp = "2026-11-01T00:00:00Z"
    data = lines(
        {"eventId": "e1", "eventType": "search", "timestamp": stamp, "userId": "u", "sessionId": "s9"},
        {
            "eventId": "e2",
            "eventType": "view",
            "timestamp": stamp,
            "userId": "u",
            "productId": "p",
            "sessionId": "s1",
        },
        {
            "eventId": "e3",
            "eventType": "view",
            "timestamp": stamp,
            "userId": "u",
            "productId": "q",
            "sessionId": "s9",
        },
    )
    # When both readers build the interactions / Then the baskets are numbered alike
    expected, actual = old_path([data]), new_path([data])
    assert_same(expected, actual)
    assert actual.basket.tolist() == [0, 1]


@pytest.mark.parametrize("every_row_has_one", [True, False], ids=["every row names one", "some do not"])
def test_each_product_keeps_the_first_category_a_block_gives_it(every_row_has_one: bool) -> None:
    # Given a block's records naming products (some none) with categories that change over the
    # rows, and (in one case) some records without a category
    rng = random.Random(12)
    records = []
    for i in range(400):
        record: dict[str, Any] = {
            "eventId": str(uuid.UUID(int=rng.getrandbits(128))),
            "eventType": "view",
            "timestamp": "2026-11-01T00:00:00.000Z",
            "anonId": f"a{i % 7}",
        }
        if rng.random() < 0.9:
            record["productId"] = f"p{rng.randrange(40)}"
            if every_row_has_one or rng.random() < 0.7:
                record["category"] = f"c{rng.randrange(5)}"
        records.append(record)
    # When the block is read
    block = block_of(usable_from_records(records))
    # Then each product's category is the first its records give, as the record path keeps it
    first: dict[str, str] = {}
    for record in records:
        if record.get("productId") and record.get("category"):
            first.setdefault(record["productId"], record["category"])
    assert block.categories == first
    assert len(first) > 20
