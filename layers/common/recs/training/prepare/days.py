"""Each closed lake day decoded once, kept as Parquet: Prepare's cost follows the new events.

Firehose files an object under the UTC hour it arrived (``<prefix>YYYY/MM/DD/HH/``), so once a
day is over (plus `CLOSED_AFTER` for the last buffer to land) nothing new arrives under it. Its
usable records (`recs.training.prepare.columnar.Usable`) are then written once to
``prepared/days/YYYY/MM/DD/<fingerprint>.parquet`` in the artifact bucket, and every later run
reads that instead of the day's lake objects (Parquet or NDJSON, `recs.lake_format`; a day may
hold both). The fingerprint is a digest of the day's object keys: a day whose objects changed (a
late object, an object the erasure purge deleted) is decoded again and its older file deleted.
The purge also deletes the files of every day whose objects it rewrote (`recs.privacy.purge`),
so a file never outlives an erasure of its records, and the files are written uncompressed so
that the purge's sweep of unknown artifacts can still read every visitor id in them. Days before
the window are deleted by the run that leaves them behind. The day still open is decoded on
every run and never kept.

Nothing here decides who is excluded: opt-outs and erasures are applied when the window's
interactions are built, exactly as for freshly decoded days.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from recs.ports import ObjectStore
from recs.store_layout import PREPARED_DAYS_PREFIX, prepared_day_prefix
from recs.training.prepare import columnar
from recs.training.prepare.blocks import EventBlock
from recs.training.prepare.columnar import USABLE_FIELDS, Usable, block_of, usables_of_objects
from recs.training.prepare.lake import PREFETCH, read_objects

#: A day is closed this long after its end: Firehose's buffer holds records for at most 15 min.
CLOSED_AFTER = timedelta(hours=1)
_COUNTS = b"recs.counts"


@dataclass
class DayStats:
    """What a run read: days from their kept Parquet, days decoded from the lake's objects."""

    days_kept: int = 0
    days_decoded: int = 0
    days_written: int = 0
    objects_decoded: int = 0
    files_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "daysFromParquet": self.days_kept,
            "daysDecoded": self.days_decoded,
            "daysWritten": self.days_written,
            "lakeObjectsDecoded": self.objects_decoded,
            "dayFilesDeleted": self.files_deleted,
        }


def day_of_key(key: str, lake_prefix: str) -> str:
    """``YYYY/MM/DD`` of a lake key (its arrival day)."""
    return key.removeprefix(lake_prefix)[:10]


#: How a kept day's columns are encoded: the ids (as plain text in dictionary pages) and the
#: few-valued columns by dictionary; the times by delta (close together within an object); the
#: eventId's halves plain (random: a dictionary of them only grows); no statistics (nothing filters
#: a kept day by them). Against pyarrow's defaults (a dictionary for every column, statistics),
#: 2 rounds each: bench/prepare_speed.py's 1M-event lake wrote in 178-185 ns per event instead of
#: 279-280 at the same 34.2 bytes per event, the demo shop's own records (random eventIds) in
#: 177-188 instead of 298-313 at 34.1 bytes instead of 42.0; reading them back took no longer.
_ENCODING: dict[str, object] = {
    "use_dictionary": ["user", "anon", "product", "category", "session", "event", "quantity", "weight"],
    "column_encoding": {"micros": "DELTA_BINARY_PACKED"},
    "write_statistics": False,
}


class DayWriter:
    """A day's usable records as Parquet, one row group per `Usable` (a slice of the day's lake
    objects, `usables_of_objects`, or their slices `joined`), written as they come; the counts
    ride in the file's metadata.
    Uncompressed (dictionary pages keep ids as plain text): the purge's sweep of unknown artifacts
    must be able to read every visitor id."""

    def __init__(self) -> None:
        self._sink = io.BytesIO()
        self._writer = pq.ParquetWriter(self._sink, USABLE_FIELDS, compression="none", **_ENCODING)
        self._read = self._malformed = 0

    def write(self, usable: Usable) -> None:
        self._writer.write_table(usable.table)
        self._read += usable.read
        self._malformed += usable.malformed

    def close(self) -> bytes:
        counts = json.dumps({"read": self._read, "malformed": self._malformed})
        self._writer.add_key_value_metadata({_COUNTS.decode(): counts})
        self._writer.close()
        return self._sink.getvalue()


def to_parquet(usable: Usable) -> bytes:
    """One `Usable` as a kept day (tests, and a day of one object)."""
    writer = DayWriter()
    writer.write(usable)
    return writer.close()


def read_day(data: bytes) -> Iterator[Usable]:
    """A kept day's usable records, consecutive row groups `joined` up to a slice's records (so
    a day kept a row group per small object, before the joining, reads joined too); the day's
    counts come with the first."""
    return joined(_row_groups(pq.ParquetFile(pa.BufferReader(data))))


def _row_groups(day: pq.ParquetFile) -> Iterator[Usable]:
    """A kept day's usable records a row group at a time (one empty one for a day of none); the
    day's counts come with the first."""
    counts = json.loads((day.metadata.metadata or {})[_COUNTS])
    read, malformed = int(counts["read"]), int(counts["malformed"])
    for group in range(max(day.num_row_groups, 1)):
        table = day.read_row_group(group) if day.num_row_groups else USABLE_FIELDS.empty_table()
        yield Usable(
            table=table.replace_schema_metadata(None).cast(USABLE_FIELDS), read=read, malformed=malformed
        )
        read = malformed = 0


def joined(usables: Iterable[Usable], limit: int | None = None) -> Iterator[Usable]:
    """Consecutive usables joined while together they hold at most ``limit`` records (one larger
    alone; ``limit`` by default `columnar.SLICE_ROWS`), in order: a day's lake objects' slices
    (small NDJSON objects'; small Parquet objects' rows are joined as they are read,
    `columnar.usables_of_objects`), and a kept day's row groups (`read_day`).

    Why: Firehose delivers an object per buffer interval (60 s) however few its records, so a
    shop of a few events a minute fills a day with some 1,440 objects of a few records each, and
    everything Prepare does per block (a block of ids indexed, a row group of the kept day, and
    each later run's reading of it) would cost more than its events. The 1M-event lake of the
    benchmark cut into objects of 256 KiB of JSON (1,348 objects of about 740 records) took 8.7
    CPU s for a first run and 4.0 for a run from the kept days, against 1.6 and 0.6 for the same
    events in objects of 8 MiB (probe, a5991b0's code). Within a slice's records, what is held at
    once stays what a slice of a large object holds."""
    limit = columnar.SLICE_ROWS if limit is None else limit
    pending: list[Usable] = []
    held = 0
    for usable in usables:
        rows = usable.table.num_rows
        if pending and held + rows > limit:
            whole = pending[0] if len(pending) == 1 else Usable.concat(pending)
            pending, held = [], 0
            yield whole
            del whole
        pending.append(usable)
        held += rows
        del usable
    if pending:
        yield pending[0] if len(pending) == 1 else Usable.concat(pending)


def from_parquet(data: bytes) -> Usable:
    """A kept day's usable records as one `Usable`."""
    return Usable.concat(list(read_day(data)))


class PreparedDays:
    """The window's events, one `EventBlock` per arrival day, from Parquet where a day was kept."""

    def __init__(
        self, lake: ObjectStore, artifacts: ObjectStore, lake_prefix: str, *, prefetch: int = PREFETCH
    ):
        self._lake = lake
        self._artifacts = artifacts
        self._prefix = lake_prefix
        self._prefetch = prefetch
        self.stats = DayStats()

    def blocks(self, start: datetime, end: datetime) -> Iterator[EventBlock]:
        """Days from ``start``'s through ``end``'s, in order; ``end`` is also "now" for deciding
        which days are closed."""
        kept = self._kept_files()
        first, last = start.date(), end.date()
        self._delete([key for day, keys in kept.items() if _date(day) < first for key in keys])
        day = first
        while day <= last:
            name = f"{day:%Y/%m/%d}"
            keys = sorted(self._lake.list_keys(f"{self._prefix}{name}/"))
            closed = (
                datetime.combine(day + timedelta(days=1), datetime.min.time(), end.tzinfo) + CLOSED_AFTER
                <= end
            )
            yield from self._day(name, keys, kept.get(name, []), closed=closed)
            day += timedelta(days=1)

    def _day(self, name: str, keys: list[str], files: list[str], *, closed: bool) -> Iterator[EventBlock]:
        """A day's blocks, one per slice of its lake objects (`usables_of_objects`: small Parquet
        objects' rows joined as they are read), slices `joined` up to a slice's records (NDJSON
        objects', and likewise its kept copy's row groups, `read_day`),
        so that memory holds one slice's columns at a time however large the day and its
        objects, and a block's fixed cost is not paid per small object."""
        if not keys:
            self._delete(files)
            return
        target = f"{prepared_day_prefix(name)}{_fingerprint(keys)}.parquet"
        if closed and target in files:
            self._delete([key for key in files if key != target])
            self.stats.days_kept += 1
            for usable in read_day(self._artifacts.get(target)):
                yield block_of(usable)
            return
        writer = DayWriter() if closed else None
        for usable in joined(self._usables(keys)):
            if writer is not None:
                writer.write(usable)
            yield block_of(usable)
        self.stats.days_decoded += 1
        self.stats.objects_decoded += len(keys)
        if writer is not None:
            self._artifacts.put(target, writer.close())
            self.stats.days_written += 1
            self._delete([key for key in files if key != target])

    def _usables(self, keys: list[str]) -> Iterator[Usable]:
        """The objects' usable records, in order, a slice at a time (`usables_of_objects`).
        Decoded here, one object at a time: decoding in the download threads was 1.5x faster on
        2 cores but held 1.6x the memory at 4M events (bench/prepare_speed.py, 0cf3a78), and
        memory is what bounds Prepare."""
        return usables_of_objects(read_objects(self._lake, keys, prefetch=self._prefetch))

    def _kept_files(self) -> dict[str, list[str]]:
        kept: dict[str, list[str]] = {}
        for key in self._artifacts.list_keys(PREPARED_DAYS_PREFIX):
            kept.setdefault(key.removeprefix(PREPARED_DAYS_PREFIX)[:10], []).append(key)
        return kept

    def _delete(self, keys: list[str]) -> None:
        if keys:
            self.stats.files_deleted += self._artifacts.delete(keys)


#: The layout of a kept day (`USABLE_FIELDS`): part of its fingerprint, so that a copy written by
#: an older layout is never read, only decoded again and replaced. 3: the ids are dictionary
#: arrays (the same pages in the file; the arrow schema it stores says so).
DAY_LAYOUT = 3


def _fingerprint(keys: list[str]) -> str:
    return hashlib.sha256("\n".join([f"layout {DAY_LAYOUT}", *keys]).encode()).hexdigest()[:20]


def _date(day: str) -> date:
    return datetime.strptime(day, "%Y/%m/%d").date()
