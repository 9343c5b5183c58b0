"""Prepare keeps each closed lake day as Parquet and reads it instead of the day's JSON: later runs
decode only what arrived since, and build the same interactions a full decode builds."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recs.privacy.visitors import VISITOR_TOKEN
from recs.store_layout import PREPARED_DAYS_PREFIX
from recs.training.prepare import columnar
from recs.training.prepare.columnar import Usable, usable_of_object
from recs.training.prepare.days import (
    DayStats,
    DayWriter,
    PreparedDays,
    from_parquet,
    joined,
    read_day,
    to_parquet,
)
from recs.training.prepare.interactions import InteractionBuilder, Interactions
from recs.training.prepare.lake import decode_object
from recs.training.privacy.artifact_scrub import ArtifactScrubber, ArtifactScrubError
from recs_tools.memory_objects import MemoryObjects
from tests.unit.training.test_columnar import assert_same, lines, same_records, shop_records

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def day_object(day: datetime, n: int, seed: int) -> bytes:
    """A lake object of ``n`` events stamped during ``day`` (pseudonymous ids, as in the lake)."""
    records = shop_records(random.Random(seed), n)
    for i, record in enumerate(records):
        record["timestamp"] = (day + timedelta(seconds=37 * i)).isoformat().replace("+00:00", "Z")
        record["userId"] = f"u_{hash((seed, i % 7)) & (2**128 - 1):032x}" if i % 3 else None
        record["anonId"] = f"a_{(seed * 131 + i % 11):032x}"
    return lines(*records)


def lake_of(days: int, *, per_day: int = 2) -> MemoryObjects:
    """``days`` days before NOW, plus today's first hours; ``per_day`` objects a day."""
    lake = MemoryObjects()
    for back in range(days, -1, -1):
        day = (NOW - timedelta(days=back)).replace(hour=0)
        for part in range(per_day):
            hour = day + timedelta(hours=part)
            if hour <= NOW:
                lake.put(f"events/{hour:%Y/%m/%d/%H}/obj-{part}", day_object(hour, 50, back * 10 + part))
    return lake


def run(
    lake: MemoryObjects, artifacts: MemoryObjects, *, now: datetime = NOW, window: int = 30
) -> tuple[Interactions, DayStats]:
    days = PreparedDays(lake, artifacts, "events/", prefetch=2)
    builder = InteractionBuilder()
    for block in days.blocks(now - timedelta(days=window), now):
        builder.add_block(block)
    return builder.build(
        start_ts=(now - timedelta(days=window)).timestamp(), end_ts=now.timestamp() + 600
    ), days.stats


def decoded_from_scratch(lake: MemoryObjects, *, now: datetime = NOW, window: int = 30) -> Interactions:
    return run(lake, MemoryObjects(), now=now, window=window)[0]


def test_the_first_run_keeps_every_closed_day_and_never_the_open_one() -> None:
    # Given five closed days and today's open day in the lake
    lake, artifacts = lake_of(5), MemoryObjects()
    # When Prepare runs
    _, stats = run(lake, artifacts)
    # Then each closed day was decoded and kept; today's was decoded only
    kept_days = sorted({key.removeprefix(PREPARED_DAYS_PREFIX)[:10] for key in artifacts.objects})
    assert kept_days == [f"{NOW - timedelta(days=back):%Y/%m/%d}" for back in range(5, 0, -1)]
    assert stats.days_decoded == 6
    assert stats.days_written == 5


def test_the_next_run_decodes_only_the_new_day_and_builds_the_same_interactions() -> None:
    # Given yesterday's run kept its closed days
    lake, artifacts = lake_of(5), MemoryObjects()
    run(lake, artifacts, now=NOW - timedelta(days=1) + timedelta(hours=2))
    lake_reads = lake.reads
    # When today's run starts
    interactions, stats = run(lake, artifacts)
    # Then it decoded only yesterday's objects (closed since) and today's, read the rest from Parquet
    assert stats.days_kept == 4
    assert stats.days_decoded == 2
    assert lake.reads - lake_reads == 4
    # And the interactions are exactly those of a decode from scratch
    assert_same(decoded_from_scratch(lake), interactions)


def test_a_day_whose_objects_changed_is_decoded_again_and_its_old_copy_deleted() -> None:
    # Given a run kept the closed days, then an object of one closed day is removed (the purge
    # deleted it) and a late object lands in another
    lake, artifacts = lake_of(3), MemoryObjects()
    run(lake, artifacts)
    two_days_ago = NOW - timedelta(days=2)
    del lake.objects[f"events/{two_days_ago:%Y/%m/%d}/01/obj-1"]
    lake.put(f"events/{NOW - timedelta(days=1):%Y/%m/%d}/23/late", day_object(NOW - timedelta(days=1), 5, 99))
    # When the next run starts
    interactions, stats = run(lake, artifacts)
    # Then both days were decoded again, and each day keeps exactly one copy
    assert stats.days_decoded == 3
    assert stats.days_kept == 1
    per_day: dict[str, int] = {}
    for key in artifacts.objects:
        day = key.removeprefix(PREPARED_DAYS_PREFIX)[:10]
        per_day[day] = per_day.get(day, 0) + 1
    assert set(per_day.values()) == {1}
    assert_same(decoded_from_scratch(lake), interactions)


def test_days_that_leave_the_window_are_deleted() -> None:
    # Given a run over a 10-day window kept 10 closed days
    lake, artifacts = lake_of(10), MemoryObjects()
    run(lake, artifacts, window=10)
    # When a run with a 3-day window starts
    _, stats = run(lake, artifacts, window=3)
    # Then only the window's closed days are kept
    kept = sorted({key.removeprefix(PREPARED_DAYS_PREFIX)[:10] for key in artifacts.objects})
    assert kept == [f"{NOW - timedelta(days=back):%Y/%m/%d}" for back in range(3, 0, -1)]
    assert stats.files_deleted == 7


def test_a_kept_day_round_trips_exactly() -> None:
    # Given a day's usable records
    usable = usable_of_object(day_object(NOW, 200, 4))
    # When written and read back as Parquet / Then nothing changed
    back = from_parquet(to_parquet(usable))
    assert back.table.equals(usable.table)
    assert (back.read, back.malformed) == (usable.read, usable.malformed)


def test_the_purges_sweep_sees_every_visitor_in_a_kept_day_and_can_delete_it() -> None:
    # Given a kept day holding a user's events
    lake, artifacts = lake_of(1), MemoryObjects()
    run(lake, artifacts)
    (key,) = artifacts.objects
    text = artifacts.objects[key].decode("utf-8", errors="replace")
    users = {token for token in VISITOR_TOKEN.findall(text) if token.startswith("u_")}
    assert users, "the ids are stored as plain text"
    erased = sorted(users)[0]
    # When the purge's sweep meets it before the day was forgotten / Then it refuses to call the erasure done
    scrubber = ArtifactScrubber(artifacts)
    with pytest.raises(ArtifactScrubError):
        scrubber.scrub_all(lambda visitor: visitor == erased)
    # When the purge forgets the day (it rewrote that day's lake objects) / Then the copy is gone
    day = key.removeprefix(PREPARED_DAYS_PREFIX)[:10]
    assert scrubber.forget_prepared_days([day]) == 1
    assert not artifacts.objects
    scrubber.scrub_all(lambda visitor: visitor == erased)


def test_the_counts_of_a_kept_day_survive() -> None:
    # Given a day with malformed records
    data = (
        day_object(NOW, 20, 2)
        + b'{"eventId": "x", "eventType": "nope", "timestamp": "2026-11-19T00:00:00Z"}\n'
    )
    usable = usable_of_object(data)
    # When kept and read / Then the counts are the same, and ride in the file's metadata
    back = from_parquet(to_parquet(usable))
    assert back.malformed == usable.malformed >= 1
    assert back.read == usable.read == 21
    assert np.array_equal(back.table.column("micros").to_numpy(), usable.table.column("micros").to_numpy())


# ---------------------------------------------------------------------- small objects joined
def test_consecutive_usables_join_up_to_the_limit_and_a_larger_one_stands_alone() -> None:
    # Given usables (a day's slices, or a kept day's row groups) of these sizes, and a limit of 10
    sizes = [5, 5, 200, 3, 3, 3, 10, 1]
    parts = [
        Usable(table=pa.table({"part": [index] * size}), read=size, malformed=0)
        for index, size in enumerate(sizes)
    ]
    # When joined / Then consecutive ones go together while within 10, in order
    runs = [part.table.column("part").to_pylist() for part in joined(parts, 10)]
    assert [sorted(set(run)) for run in runs] == [[0, 1], [2], [3, 4, 5], [6], [7]]
    assert runs == [[0] * 5 + [1] * 5, [2] * 200, [3] * 3 + [4] * 3 + [5] * 3, [6] * 10, [7]]
    assert list(joined([], 10)) == []


def test_usables_are_joined_in_order_while_within_the_limit() -> None:
    # Given the usable records of six small objects of 9 to 14 records read
    rng = random.Random(3)
    parts = [usable_of_object(lines(*shop_records(rng, rng.randint(9, 14), 20 * i))) for i in range(6)]
    # When joined within 30 rows
    joined_parts = list(joined(parts, 30))
    # Then each join holds at most 30 rows, no two neighbours would have fitted together, and
    # together they are the same records and counts, in order
    rows = [part.table.num_rows for part in joined_parts]
    assert len(joined_parts) < len(parts)
    assert max(rows) <= 30
    assert all(a + b > 30 for a, b in itertools.pairwise(rows))
    whole, expected = Usable.concat(joined_parts), Usable.concat(parts)
    assert same_records(whole.table, expected.table)
    assert (whole.read, whole.malformed) == (expected.read, expected.malformed)


def test_a_day_of_many_small_objects_is_kept_in_few_row_groups_and_builds_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a lake whose days hold 12 objects of 50 records (a quiet shop's deliveries), and
    # slices of 150 records
    monkeypatch.setattr(columnar, "SLICE_ROWS", 150)
    lake, artifacts = lake_of(3, per_day=12), MemoryObjects()
    # When a first run keeps the closed days and the next reads them back
    first_blocks = list(
        PreparedDays(lake, artifacts, "events/", prefetch=2).blocks(NOW - timedelta(days=30), NOW)
    )
    first, _ = run(lake, artifacts)
    again, stats = run(lake, artifacts)
    # Then the builder got a block per join, not per object, and each kept day's row groups hold
    # at most 150 records, no two neighbours of which would have fitted together
    assert stats.days_kept == 3
    assert len(first_blocks) < len(lake.objects) / 2
    for data in artifacts.objects.values():
        meta = pq.ParquetFile(pa.BufferReader(data)).metadata
        rows = [meta.row_group(group).num_rows for group in range(meta.num_row_groups)]
        assert 1 < len(rows) < 12
        assert max(rows) <= 150
        assert all(a + b > 150 for a, b in itertools.pairwise(rows))
    # And both runs build what the record path builds from the objects one by one
    by_records = InteractionBuilder()
    for key in sorted(lake.objects):
        by_records.add_all(decode_object(lake.objects[key]))
    expected = by_records.build(start_ts=(NOW - timedelta(days=30)).timestamp(), end_ts=NOW.timestamp() + 600)
    assert_same(expected, first)
    assert_same(expected, again)


def test_a_kept_day_of_many_small_row_groups_reads_back_joined(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a kept day written a row group per small object (as days were kept before joining)
    rng = random.Random(5)
    parts = [usable_of_object(lines(*shop_records(rng, 20, 20 * i))) for i in range(10)]
    writer = DayWriter()
    for part in parts:
        writer.write(part)
    data = writer.close()
    assert pq.ParquetFile(pa.BufferReader(data)).num_row_groups == 10
    # When it is read with slices of 60 records
    monkeypatch.setattr(columnar, "SLICE_ROWS", 60)
    read = list(read_day(data))
    # Then its row groups come joined, the day's counts with the first, the same records
    assert len(read) < 10
    assert all(part.table.num_rows <= 60 for part in read)
    assert [part.read for part in read[1:]] == [0] * (len(read) - 1)
    expected = Usable.concat(parts)
    assert (read[0].read, read[0].malformed) == (expected.read, expected.malformed)
    assert same_records(Usable.concat(read).table, expected.table)
