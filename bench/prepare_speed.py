"""Prepare: the columnar, incremental lake reader against the record-by-record one it replaced,
over the lake as Firehose writes it now (Parquet) and as it wrote it before (NDJSON).

    python -m bench --quick --only prepare_speed     # 250k events; incremental days of 20k and 80k
    python -m bench --full --only prepare_speed      # 1M and 4M events; days of 50k and 200k
    python -m bench.prepare_speed [--quick]          # the same, JSON to stdout

The lake: records exactly as ingest writes them (the demo shop's events through `IngestService`,
repeated as new cohorts of shoppers, with fresh event, user, anonymous and session ids, so that
visitors and sessions grow with the lake as a real shop's do: `bench.training_scale.lake_objects`;
up to commit 2ad2815 the copies repeated the same shoppers, which left Prepare's per-visitor and
per-session memory out of the figures), in NDJSON objects of about
8 MB like Firehose's deliveries before its record format conversion, filed under 28 closed
arrival days, held in memory (no S3 transfer is measured: in a Lambda the downloads overlap the
decoding, 8 objects ahead). The Parquet lake holds the same records, one Parquet object per
NDJSON object, as Firehose's conversion writes them (`recs.lake_format.encode_records`: the Glue
table's columns, Snappy). The bytes per event of both are reported, and of the NDJSON gzipped
(level 6), as Firehose stored it in AWS before the conversion.

First run, the same records each way, each in a fresh process, alternating, median of the runs:

* baseline, the record path Prepare used before: ``decode_object`` (one ``json.loads`` per batch
  of lines) and ``InteractionBuilder.add`` per record, over the NDJSON objects;
* the columnar path Prepare runs now, over the Parquet lake (the goal's figures):
  `recs.training.prepare.days.PreparedDays` (each object's fields read from Parquet a batch of
  rows at a time, compute kernels, a block per slice of some 32,768 records, small objects'
  records joined up to that, each closed day written once as Parquet, a row group per block) and
  ``InteractionBuilder.add_block``;
* the same columnar path over the NDJSON objects (pyarrow's JSON reader, a block of text at a
  time): what Prepare does with the lake's older objects;
* pyarrow's JSON reader alone over the NDJSON objects
  (`recs.training.prepare.columnar.raw_blocks`, nothing built): the ceiling of any reader of
  these JSON objects built on it.

At the smaller size, the same records are also cut into a small shop's deliveries (256 KiB of
JSON each: Firehose closes an object every 60 seconds however little it holds) and read by the
record path over them as NDJSON and by the columnar path over them as Parquet, 3 runs each,
alternating (context, no goal: what a small shop's lake costs per event, where objects are many).

At the larger size, the same records are also cut into Firehose's largest deliveries (64 MiB of
JSON each, the delivery stream's buffer: one Parquet object of one row group each, some 180,000
records) and read by the columnar path, 3 runs, for its peak memory against the goal's objects
(context, no goal: the goal's figures are measured over 8 MiB objects).

The first three end with ``InteractionBuilder.build`` (dedupe, window, identities) and must build
the same interactions (checked). Speed is events per CPU second of the process (one thread: the
readers are told not to use more), so per core; memory is the peak RSS above the objects held in
memory, per event read: RSS counts everything the process holds (arrow's memory pool, numpy's
and Python's allocations, the pages of the libraries' code it ran), where tracemalloc or arrow's
pool would each see a part. The objects held are the lake's own bytes in its format, so the
Parquet run holds far fewer bytes of objects than the NDJSON runs (the bytes per event figures);
neither run's objects are counted, as a Lambda holds the 8 objects ahead of the one it decodes
whatever their format. The kept days the columnar path writes go to files in a temporary
directory, as they go to S3 in AWS, so that memory is Prepare's own, not a stand-in bucket's.
Each first run also says what held its memory after its first object and once every event was
read (the peak at the sizes measured; `recs_tools.process_memory.resident_parts`): mapped files
(the code it ran), malloc's heap (the reading's working memory, free or in use), other maps (the
builder's columns and name stores, in memory maps of their own); and with it, the room the
memory goal leaves the heap beside the other two. The memory goal is judged at each size and on
the slope between the two, the memory each additional event costs.

Incremental, over the Parquet lake (the lake as Firehose writes it now; the kept days are
Prepare's own Parquet whatever the lake's format, so only the new day's decoding would differ,
and the first runs compare that on both formats): a lake of 27 kept days plus one new closed
day of two sizes (4x apart); the run reads the kept days from their Parquet, decodes only the
new day's objects and keeps it. Each measurement is 7 runs without the new day (the base: the
kept days read and the window's interactions built) alternating with 7 with it, each from the same
kept copies; medians. What the new day adds is timed inside each run: the CPU seconds of the new
day's blocks (its objects decoded, their events indexed, its kept copy written), since a whole
run's time varies by more than a small day adds (the difference of the two kinds' medians once
came out smaller for a 4x larger day). A run's time is compared with a first run over the same
lake (everything decoded), and what the new day adds between the two sizes of new day.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.environment import QuietWaiter, benchmark_main, child_result, log
from bench.figures import Figure, figure
from recs_tools.disk_objects import DiskObjects
from recs_tools.memory_objects import MemoryObjects
from recs_tools.process_memory import reset_peak_rss, resident_parts, status_kib

COMMAND = "python -m bench --only prepare_speed"
OBJECT_BYTES = 8 << 20
#: Firehose's largest deliveries: the delivery stream's buffer (template.yaml, the least record
#: format conversion allows), reached when a shop sends that much JSON within the buffer's
#: interval. Each is one Parquet object of one row group.
FIREHOSE_OBJECT_BYTES = 64 << 20
#: A small shop's deliveries: Firehose delivers its buffer every interval (60 s) however little
#: it holds, so a shop sending about 4 KiB of JSON a second (some 12 events) fills its days with
#: objects of this size, 1,440 a day.
SMALL_OBJECT_BYTES = 256 << 10
DAYS = 28
#: Runs of each kind (nothing new, a new day; alternating) inside one incremental measurement.
REPEATS = 7
#: The first run after the lake's last closed day: every day is closed, none is open.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
GOAL_SPEEDUP = 5.0
GOAL_BYTES_PER_EVENT = 40.0
#: gzip's level for the NDJSON lake's size (zlib's default; what Firehose uses is not published).
GZIP_LEVEL = 6


def split_objects(data: bytes, object_bytes: int = OBJECT_BYTES) -> list[bytes]:
    """NDJSON text cut at line ends into objects of about ``object_bytes``."""
    objects, start = [], 0
    while start < len(data):
        stop = data.find(b"\n", min(start + object_bytes, len(data) - 1)) + 1 or len(data)
        objects.append(data[start:stop])
        start = stop
    return objects


def lake_of(objects: list[bytes], days: int = DAYS, first_day: datetime | None = None) -> MemoryObjects:
    """Objects filed round-robin under ``days`` arrival days ending the day before `NOW`."""
    first = first_day or (NOW - timedelta(days=days)).replace(hour=0)
    store = MemoryObjects()
    for i, data in enumerate(objects):
        day = first + timedelta(days=i % days)
        store.put(f"events/{day:%Y/%m/%d}/{i % 24:02d}/obj-{i:06d}", data)
    return store


def parquet_objects(objects: Iterable[bytes]) -> Iterator[bytes]:
    """Each NDJSON object's records as one Parquet object, as Firehose's record format conversion
    writes a delivery (`recs.lake_format.encode_records`)."""
    from recs import lake_format

    for data in objects:
        yield lake_format.encode_records(json.loads(line) for line in data.splitlines() if line.strip())


def write_objects(directory: Path, objects: Iterable[bytes], suffix: str = ".parquet") -> int:
    """Objects as numbered files of ``directory`` (`objects_at` reads them back in order); returns
    their bytes."""
    directory.mkdir(parents=True)
    size = 0
    for i, data in enumerate(objects):
        (directory / f"{i:06d}{suffix}").write_bytes(data)
        size += len(data)
    return size


def objects_at(path: Path, object_bytes: int = OBJECT_BYTES) -> list[bytes]:
    """A lake's objects: a directory's files in name order (`write_objects`: a Parquet lake, or an
    NDJSON one cut otherwise), or an NDJSON file cut into objects of about ``object_bytes``."""
    if path.is_dir():
        return [file.read_bytes() for file in sorted(path.iterdir())]
    return split_objects(path.read_bytes(), object_bytes)


def events_in(data: bytes) -> int:
    """Records in a lake object of either format."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recs import lake_format

    if lake_format.is_parquet(data):
        return int(pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows)
    return data.count(b"\n")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def first_run_child(path: str, way: str) -> dict[str, Any]:
    """In a fresh process: one first run of Prepare's reading over the lake in ``path`` (an NDJSON
    file, or a directory of Parquet objects: `objects_at`)."""
    import pyarrow as pa

    from recs import lake_format
    from recs.training.prepare import columnar
    from recs.training.prepare.days import PreparedDays
    from recs.training.prepare.interactions import InteractionBuilder
    from recs.training.prepare.lake import decode_object, decompressed

    objects = objects_at(Path(path))
    lake_kind = "parquet" if objects and lake_format.is_parquet(objects[0]) else "ndjson"
    lake_bytes, objects_held = sum(len(data) for data in objects), len(objects)
    lake = lake_of(objects)
    del objects
    start = NOW - timedelta(days=DAYS + 1)
    pool = pa.default_memory_pool().backend_name
    before = reset_peak_rss()
    began, cpu = time.perf_counter(), _cpu()
    builder = InteractionBuilder()
    parts = _ResidentParts()
    if way == "record":
        for key in lake.list_keys("events/"):
            for record in decode_object(lake.get(key)):
                builder.add(record)
            parts.once("first")
    elif way == "reader":
        # pyarrow's JSON reader alone, as the columnar path calls it: no reader of these JSON
        # objects built on it can go faster, so it bounds what the columnar path can reach.
        events = 0
        for key in lake.list_keys("events/"):
            with contextlib.suppress(columnar.NotPlainError):
                events += sum(block.num_rows for block in columnar.raw_blocks(decompressed(lake.get(key))))
        cpu_seconds = _cpu() - cpu - parts.cpu_seconds
        return {
            "way": way,
            "lake": lake_kind,
            "arrowMemoryPool": pool,
            "events": events,
            "cpuSeconds": round(cpu_seconds, 3),
            "eventsPerCpuSecond": round(events / cpu_seconds),
        }
    else:
        with tempfile.TemporaryDirectory(prefix="bench-prepare-kept-") as kept:
            # The kept days go to files, as they go to S3 in AWS: what Prepare uploads leaves the
            # process, like the lake objects it downloads are not counted (they are held above).
            for block in PreparedDays(lake, DiskObjects(Path(kept)), "events/").blocks(start, NOW):
                builder.add_block(block)
                parts.once("first")
    parts.once("read")
    interactions = builder.build(start_ts=0.0, end_ts=4e9)
    cpu_seconds = _cpu() - cpu - parts.cpu_seconds
    seconds = time.perf_counter() - began - parts.seconds
    peak = (status_kib("VmHWM") - before) * 1024
    return {
        "way": way,
        "lake": lake_kind,
        "lakeBytesPerEvent": round(lake_bytes / max(builder.read, 1), 1),
        "objects": objects_held,
        "arrowMemoryPool": pool,
        "events": builder.read,
        "interactions": len(interactions),
        "digest": _digest(interactions),
        "seconds": round(seconds, 3),
        "cpuSeconds": round(cpu_seconds, 3),
        "eventsPerCpuSecond": round(builder.read / cpu_seconds),
        "peakBytesPerEvent": round(peak / builder.read, 1),
        "peakRssMiB": round(peak / 2**20, 1),
        "residentMiB": parts.above_start(),
    }


class _ResidentParts:
    """What holds the resident memory (`resident_parts`) above the run's start, taken once at each
    named point of the run: ``first``, once the first object (the record path) or block (the
    columnar path's first slice: the first object, at the goal's object size) is in the builder;
    ``read``, once every event is, before the build. The time the snapshots take is kept apart,
    so that the run's figures leave it out."""

    def __init__(self) -> None:
        self.cpu_seconds = self.seconds = 0.0
        self._taken: dict[str, dict[str, int]] = {}
        self._start = self._snapshot()

    def once(self, point: str) -> None:
        if point not in self._taken:
            self._taken[point] = self._snapshot()

    def above_start(self) -> dict[str, dict[str, float]]:
        """MiB above the start per point and part."""
        return {
            point: {part: round((kib - self._start[part]) / 1024, 1) for part, kib in taken.items()}
            for point, taken in self._taken.items()
        }

    def _snapshot(self) -> dict[str, int]:
        cpu, began = _cpu(), time.perf_counter()
        parts = resident_parts()
        self.cpu_seconds += _cpu() - cpu
        self.seconds += time.perf_counter() - began
        return parts


def incremental_child(path: str, new_day_events: int, largest_new_day: int) -> dict[str, Any]:
    """In a fresh process: 27 days kept by an earlier run; a run with nothing new (the base); then
    a new closed day of about ``new_day_events`` and the run that follows it. The kept days are
    the same whatever the new day's size (the tail for the largest new day is set aside). The lake
    in ``path``: `objects_at` (the parent gives Parquet objects of an eighth of a first run's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recs.training.prepare.days import PreparedDays
    from recs.training.prepare.interactions import InteractionBuilder

    objects = objects_at(Path(path), OBJECT_BYTES // 8)
    per_object = sum(events_in(data) for data in objects) / len(objects)

    def count(events: int) -> int:
        return max(1, round(events / per_object))

    kept, tail = objects[: -count(largest_new_day)], objects[-count(largest_new_day) :]
    new = tail[: count(new_day_events)]
    lake = lake_of(kept, DAYS - 1, (NOW - timedelta(days=DAYS)).replace(hour=0))
    artifacts = MemoryObjects()
    start = NOW - timedelta(days=DAYS + 1)
    yesterday = NOW - timedelta(days=1)
    for _ in PreparedDays(lake, artifacts, "events/").blocks(start, yesterday):
        pass  # the earlier run keeps the 27 days

    kept_days = dict(artifacts.objects)
    kept_files = [data for key, data in kept_days.items() if key.endswith(".parquet")]
    kept_bytes = sum(len(data) for data in kept_files)
    # The kept days come first, a block per row group (a lake object): the blocks after them are
    # the new day's, decoded from its lake objects.
    kept_blocks = sum(pq.ParquetFile(pa.BufferReader(data)).num_row_groups for data in kept_files)

    def timed_run(now: datetime, kept: dict[str, bytes]) -> tuple[float, float, float, int, dict[str, int]]:
        """One run over the lake with the kept days ``kept`` (a copy: each run starts alike): its
        seconds and CPU seconds, the CPU seconds of the new day's blocks (decoding the day's
        objects, indexing their events, writing the day's kept copy), events read, day counts."""
        began, cpu = time.perf_counter(), _cpu()
        days = PreparedDays(lake, MemoryObjects(kept), "events/")
        builder = InteractionBuilder()
        new_day_cpu, mark, blocks = 0.0, _cpu(), 0
        for block in days.blocks(start, now):
            builder.add_block(block)
            at = _cpu()
            if blocks >= kept_blocks:
                new_day_cpu += at - mark
            mark, blocks = at, blocks + 1
        if blocks > kept_blocks:  # the new day's copy is written as its last block is left
            new_day_cpu += _cpu() - mark
        builder.build(start_ts=0.0, end_ts=4e9)
        return time.perf_counter() - began, _cpu() - cpu, new_day_cpu, builder.read, days.stats.as_dict()

    day = yesterday.replace(hour=0)
    new_keys = [f"events/{day:%Y/%m/%d}/{i % 24:02d}/new-{i:06d}" for i in range(len(new))]
    # Alternating: a run with nothing new (the new day's objects not yet in the lake), then a run
    # after the new day closed. What the new day adds is timed inside the run (its blocks), not as
    # the difference of two runs: a run's time varies by more than a small day adds.
    base_runs, runs = [], []
    for _ in range(REPEATS):
        lake.delete(new_keys)
        base_runs.append(timed_run(yesterday, kept_days))
        for key, data in zip(new_keys, new, strict=True):
            lake.put(key, data)
        runs.append(timed_run(NOW, kept_days))
    kept_events = base_runs[0][3]
    return {
        "newDayEvents": runs[0][3] - kept_events,
        "events": runs[0][3],
        "seconds": round(statistics.median(run[0] for run in runs), 3),
        "baseSeconds": round(statistics.median(run[0] for run in base_runs), 3),
        "cpuSeconds": round(statistics.median(run[1] for run in runs), 3),
        "baseCpuSeconds": round(statistics.median(run[1] for run in base_runs), 3),
        "newDayCpuSeconds": round(statistics.median(run[2] for run in runs), 3),
        "keptBytesPerEvent": round(kept_bytes / max(kept_events, 1), 1),
        "days": runs[0][4],
    }


def _digest(interactions: Any) -> str:
    import hashlib

    digest = hashlib.sha256()
    for name in ("user", "item", "event", "timestamp", "quantity", "basket", "is_user"):
        digest.update(getattr(interactions, name).tobytes())
    digest.update(json.dumps([interactions.users, interactions.items, interactions.item_category]).encode())
    digest.update(json.dumps(interactions.stats, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def child_environment() -> dict[str, str]:
    """The environment of a process that runs Prepare here: this one's, with the allocator choice
    the prepare function and the training image start with (`recs.training.prepare.arrow_memory`)."""
    from recs.training.prepare.arrow_memory import ARROW_MEMORY_ENVIRONMENT

    return {**os.environ, **ARROW_MEMORY_ENVIRONMENT}


def _child(arguments: list[str]) -> dict[str, Any]:
    return child_result("bench.prepare_speed", arguments, child_environment())


def _median_row(rows: list[dict[str, Any]], key: str = "cpuSeconds") -> dict[str, Any]:
    return sorted(rows, key=lambda row: float(row[key]))[len(rows) // 2]


#: The ways of a first run: (lake, way of `first_run_child`), the goal's (the Parquet lake) first
#: after the baseline, alternated in this order.
FIRST_RUN_WAYS: dict[str, tuple[str, str]] = {
    "record": ("ndjson", "record"),
    "parquet": ("parquet", "columnar"),
    "columnar": ("ndjson", "columnar"),
    "reader": ("ndjson", "reader"),
}


def lake_sizes(objects: list[bytes], parquet_bytes: int, *, with_gzip: bool) -> dict[str, float]:
    """Bytes per event of the lake's formats: NDJSON (plain, as moto and the local stack store
    it), Parquet, and NDJSON gzipped (``with_gzip``: the slowest to measure, done on one size)."""
    import gzip

    events = sum(data.count(b"\n") for data in objects)
    sizes = {
        "ndjson": round(sum(len(data) for data in objects) / events, 1),
        "parquet": round(parquet_bytes / events, 1),
    }
    if with_gzip:
        gzipped = sum(len(gzip.compress(data, compresslevel=GZIP_LEVEL)) for data in objects)
        sizes["gzip"] = round(gzipped / events, 1)
    return sizes


def run(quick: bool) -> dict[str, Any]:
    from bench.training_scale import lake_objects

    sizes = [250_000] if quick else [1_000_000, 4_000_000]
    new_days = [20_000, 80_000] if quick else [50_000, 200_000]
    repeats = 3
    quiet = QuietWaiter(threshold=20.0, per_wait=30.0, budget=60.0 if quick else 300.0)
    first_runs: list[dict[str, Any]] = []
    incremental: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        for n in sizes:
            lakes = {"ndjson": Path(tmp) / f"lake-{n}.ndjson", "parquet": Path(tmp) / f"lake-{n}.parquet"}
            data = b"".join(lake_objects(n))
            lakes["ndjson"].write_bytes(data)
            objects = split_objects(data)
            parquet_bytes = write_objects(lakes["parquet"], parquet_objects(objects))
            bytes_per_event = lake_sizes(objects, parquet_bytes, with_gzip=n == sizes[0])
            del objects
            log(f"  {n:,} events, lake bytes per event: {json.dumps(bytes_per_event)}")
            by_way: dict[str, list[dict[str, Any]]] = {name: [] for name in FIRST_RUN_WAYS}
            for repeat in range(repeats):
                for name, (lake, way) in FIRST_RUN_WAYS.items():  # alternating: a neighbour's
                    quiet()  # load hits every way alike
                    by_way[name].append(_child(["--first-run", str(lakes[lake]), way]))
                    log(f"  {n:,} events, {name} #{repeat + 1}: {json.dumps(by_way[name][-1])}")
            digests = {row["digest"] for rows in by_way.values() for row in rows if "digest" in row}
            if len(digests) != 1:
                raise RuntimeError(f"the ways built different interactions at {n:,} events: {digests}")
            first_runs.append(
                {
                    "events": n,
                    "lakeBytesPerEvent": bytes_per_event,
                    **{name: _median_row(rows) for name, rows in by_way.items()},
                }
            )
            if n == sizes[0]:
                first_runs[-1]["smallObjects"] = _small_objects_run(
                    data, Path(tmp) / f"small-{n}", repeats, quiet, first_runs[-1]["parquet"]
                )
            if n == sizes[-1]:
                large_objects = Path(tmp) / f"lake-{n}-large.parquet"
                write_objects(large_objects, parquet_objects(split_objects(data, FIREHOSE_OBJECT_BYTES)))
                rows = []
                for repeat in range(repeats):
                    quiet()
                    rows.append(_child(["--first-run", str(large_objects), "columnar"]))
                    log(f"  {n:,} events in objects of 64 MiB, #{repeat + 1}: {json.dumps(rows[-1])}")
                if {row["events"] for row in rows} != {n} or {row["interactions"] for row in rows} != {
                    first_runs[-1]["parquet"]["interactions"]
                }:
                    raise RuntimeError(f"the lake of 64 MiB objects built other interactions: {rows}")
                first_runs[-1]["parquetLargeObjects"] = {
                    **_median_row(rows, "peakBytesPerEvent"),
                    "runs": len(rows),
                }
                # The lake as Firehose writes it now: Parquet objects of an eighth of the first
                # runs' (a day's new objects, cut finely enough for the two sizes of new day).
                small = Path(tmp) / f"incremental-{n}.parquet"
                write_objects(small, parquet_objects(split_objects(data, OBJECT_BYTES // 8)))
                for new_day in new_days:
                    rows = []
                    for _ in range(repeats):
                        quiet()
                        rows.append(_child(["--incremental", str(small), str(new_day), str(new_days[-1])]))
                    incremental.append(_median_row(rows, "seconds"))
                    log(f"  incremental, new day of {new_day:,}: {json.dumps(incremental[-1])}")
            del data
            lakes["ndjson"].unlink()
    return {
        "command": COMMAND,
        "seeds": {"shop": 42},
        "figures": _figures(first_runs, incremental),
        "firstRuns": first_runs,
        "incremental": incremental,
        "secondsWaitedForAQuietMachine": round(quiet.waited, 1),
    }


def _small_objects_run(
    data: bytes, directory: Path, repeats: int, quiet: QuietWaiter, goal_objects: dict[str, Any]
) -> dict[str, Any]:
    """First runs over the same records cut into a small shop's deliveries (`SMALL_OBJECT_BYTES`),
    the record path over them as NDJSON and the columnar path over them as Parquet, alternating;
    they must build the same interactions, as many as the goal's objects built."""
    objects = split_objects(data, SMALL_OBJECT_BYTES)
    write_objects(directory / "ndjson", objects, suffix=".ndjson")
    write_objects(directory / "parquet", parquet_objects(objects))
    del objects
    by_way: dict[str, list[dict[str, Any]]] = {"record": [], "parquet": []}
    for repeat in range(repeats):
        for name, (lake, way) in {"record": ("ndjson", "record"), "parquet": ("parquet", "columnar")}.items():
            quiet()
            by_way[name].append(_child(["--first-run", str(directory / lake), way]))
            log(
                f"  objects of {SMALL_OBJECT_BYTES >> 10} KiB, {name} #{repeat + 1}: "
                f"{json.dumps(by_way[name][-1])}"
            )
    # The objects fall on other arrival days than the goal's, so the interactions come in another
    # order (another digest): the two ways must agree with each other, and on the count.
    rows = [row for ways in by_way.values() for row in ways]
    if len({row["digest"] for row in rows}) != 1 or {row["interactions"] for row in rows} != {
        goal_objects["interactions"]
    }:
        raise RuntimeError(f"the lake of small objects built other interactions: {by_way}")
    return {"objectBytes": SMALL_OBJECT_BYTES, **{name: _median_row(rows) for name, rows in by_way.items()}}


def _peak_parts(run: dict[str, Any]) -> str:
    """Where a first run's memory was once every event was read (its peak at the sizes measured),
    and the room the memory goal leaves the heap beside the rest."""
    parts = run.get("residentMiB")
    if not parts:  # results from before the parts were measured
        return "the parts of the peak not measured"
    read, first = parts["read"], parts["first"]
    room = GOAL_BYTES_PER_EVENT * run["events"] / 2**20 - read["files"] - read["maps"]
    return (
        f"once every event was read: {read['files']:,} MiB of mapped files (the code run), "
        f"{read['maps']:,} MiB of other maps (the builder's columns and name stores) and {read['heap']:,} "
        f"MiB of malloc's heap, which held {first['heap']:,} MiB after the first object; the goal "
        f"leaves the heap {room:,.1f} MiB beside the files and maps"
    )


def _figures(first_runs: list[dict[str, Any]], incremental: list[dict[str, Any]]) -> list[Figure]:
    area = "Prepare"
    rows: list[Figure] = []
    baseline = "the record path over the NDJSON objects, same run"
    for run_row in first_runs:
        record, parquet, columnar, reader = (run_row[name] for name in FIRST_RUN_WAYS)
        n = f"{run_row['events']:,}"
        speedup = parquet["eventsPerCpuSecond"] / record["eventsPerCpuSecond"]
        rows.append(
            figure(
                area,
                f"first run, {n} lake records, Parquet lake: events per CPU second",
                parquet["eventsPerCpuSecond"],
                "events/s",
                baseline=baseline,
                baseline_value=record["eventsPerCpuSecond"],
                goal=f">= {GOAL_SPEEDUP:g}x the record path",
                met=speedup >= GOAL_SPEEDUP,
                note="the columnar path over the same records as Firehose's conversion writes them; "
                "the same interactions every way (checked)",
                digits=0,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records, Parquet lake: peak memory per event",
                parquet["peakBytesPerEvent"],
                "bytes",
                baseline="the record path over the NDJSON objects",
                baseline_value=record["peakBytesPerEvent"],
                goal=f"<= {GOAL_BYTES_PER_EVENT:g} bytes",
                met=parquet["peakBytesPerEvent"] <= GOAL_BYTES_PER_EVENT,
                note=f"peak RSS above the objects held: {parquet['peakRssMiB']:,} MiB vs "
                f"{record['peakRssMiB']:,} (the Parquet objects held: {parquet['lakeBytesPerEvent']} "
                f"bytes per event, the NDJSON {record['lakeBytesPerEvent']}); {_peak_parts(parquet)}",
                digits=1,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records, NDJSON lake: events per CPU second",
                columnar["eventsPerCpuSecond"],
                "events/s",
                baseline=baseline,
                baseline_value=record["eventsPerCpuSecond"],
                note="the columnar path over the lake's older objects (pyarrow's JSON reader)",
                digits=0,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records, NDJSON lake: peak memory per event",
                columnar["peakBytesPerEvent"],
                "bytes",
                baseline="the record path",
                baseline_value=record["peakBytesPerEvent"],
                note=f"the columnar path; peak RSS above the objects: {columnar['peakRssMiB']:,} MiB "
                f"vs {record['peakRssMiB']:,}",
                digits=1,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records: pyarrow's JSON reader alone, events per CPU second",
                reader["eventsPerCpuSecond"],
                "events/s",
                baseline=baseline,
                baseline_value=record["eventsPerCpuSecond"],
                note="the parse only, as the columnar path calls it (nothing built): the most any "
                "reader of the NDJSON objects built on it can reach",
                digits=0,
            )
        )
        small_objects = run_row.get("smallObjects")
        if small_objects:
            small_parquet, small_record = small_objects["parquet"], small_objects["record"]
            rows.append(
                figure(
                    area,
                    f"first run, {n} lake records in a small shop's objects "
                    f"({small_objects['objectBytes'] >> 10} KiB of JSON each), Parquet lake: "
                    "events per CPU second",
                    small_parquet["eventsPerCpuSecond"],
                    "events/s",
                    baseline="the record path over the same objects as NDJSON, same run",
                    baseline_value=small_record["eventsPerCpuSecond"],
                    note=f"the columnar path; {small_parquet['objects']:,} objects of about "
                    f"{small_parquet['events'] // small_parquet['objects']:,} records (Firehose's minute "
                    "deliveries of a shop of some 12 events a second); over the goal's objects: "
                    f"{parquet['eventsPerCpuSecond']:,}; peak memory {small_parquet['peakBytesPerEvent']} "
                    f"bytes per event ({parquet['peakBytesPerEvent']} over the goal's); the same "
                    "interactions both ways, as many as over the goal's objects (checked)",
                    digits=0,
                )
            )
        big = run_row.get("parquetLargeObjects")
        if big:
            rows.append(
                figure(
                    area,
                    f"first run, {n} lake records, Parquet lake of Firehose's largest objects (64 MiB "
                    "of JSON each): peak memory per event",
                    big["peakBytesPerEvent"],
                    "bytes",
                    baseline="the same records in the goal's objects (8 MiB of JSON each), same run",
                    baseline_value=parquet["peakBytesPerEvent"],
                    note=f"the columnar path; objects of {big['events'] // big['objects']:,} records "
                    "(one row group each) against "
                    f"{parquet['events'] // parquet['objects']:,}; median of {big['runs']} runs by peak;"
                    f" {big['eventsPerCpuSecond']:,} events per CPU second",
                    digits=1,
                )
            )
        sizes = run_row["lakeBytesPerEvent"]
        rows.append(
            figure(
                area,
                f"{n} lake records: Parquet bytes per event",
                sizes["parquet"],
                "bytes",
                baseline="the same records as NDJSON",
                baseline_value=sizes["ndjson"],
                note=None
                if "gzip" not in sizes
                else f"the NDJSON gzipped (level {GZIP_LEVEL}): {sizes['gzip']} bytes per event",
                digits=1,
            )
        )
    if len(first_runs) >= 2:
        small, large = first_runs[-2], first_runs[-1]
        events = int(large["events"]) - int(small["events"])

        def marginal(way: str) -> float:
            return (float(large[way]["peakRssMiB"]) - float(small[way]["peakRssMiB"])) * 2**20 / events

        rows.append(
            figure(
                area,
                f"first run, Parquet lake: memory per additional event, {small['events']:,} to "
                f"{large['events']:,} records",
                marginal("parquet"),
                "bytes",
                baseline="the record path over the NDJSON objects",
                baseline_value=marginal("record"),
                goal=f"<= {GOAL_BYTES_PER_EVENT:g} bytes",
                met=marginal("parquet") <= GOAL_BYTES_PER_EVENT,
                note="the slope of peak RSS between the two sizes: what each event of a larger window "
                f"costs (the columnar path over the NDJSON lake: {marginal('columnar'):.1f}); the "
                "reading the goal started from, about 120 bytes per event, was such a slope",
                digits=1,
            )
        )
    if incremental:
        largest = first_runs[-1]["parquet"]
        for row in incremental:
            rows.append(
                figure(
                    area,
                    f"next run, a new day of {row['newDayEvents']:,} events after 27 kept days",
                    row["seconds"],
                    "s",
                    baseline="a first run over a lake of the same size (everything decoded)",
                    baseline_value=largest["seconds"],
                    note=(
                        f"the new day's objects decoded, indexed and kept: {row['newDayCpuSeconds']} CPU s "
                        f"of the run's {row['cpuSeconds']} (the same run with nothing new: "
                        f"{row['baseCpuSeconds']} CPU s, the kept days from Parquet and the build); "
                        f"medians of {REPEATS} runs; the Parquet lake"
                    ),
                    digits=2,
                )
            )
        if len(incremental) == 2:
            small, large = incremental
            rows.append(
                figure(
                    area,
                    "next run: what the new day adds, larger day vs smaller day",
                    large["newDayCpuSeconds"] / small["newDayCpuSeconds"],
                    "x",
                    baseline="the ratio of their events",
                    baseline_value=large["newDayEvents"] / small["newDayEvents"],
                    note="time proportional to the new events when the two ratios agree (the CPU seconds "
                    "of the new day's blocks in each run)",
                    digits=2,
                )
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--first-run":
        print(json.dumps(first_run_child(argv[1], argv[2])))
        return 0
    if argv and argv[0] == "--incremental":
        print(json.dumps(incremental_child(argv[1], int(argv[2]), int(argv[3]))))
        return 0
    return benchmark_main(__doc__, run, argv, quick_help="250k events instead of 1M and 4M")


if __name__ == "__main__":
    raise SystemExit(main())
