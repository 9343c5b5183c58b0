"""Prepare: the columnar, incremental lake reader against the record-by-record one it replaced.

    python -m bench --quick --only prepare_speed     # 250k events; incremental days of 20k and 80k
    python -m bench --full --only prepare_speed      # 1M and 4M events; days of 50k and 200k
    python -m bench.prepare_speed [--quick]          # the same, JSON to stdout

The lake: records exactly as ingest writes them (the demo shop's events through `IngestService`,
repeated with fresh event ids: `bench.training_scale.lake_objects`), in objects of about 8 MB like
Firehose's, filed under 28 closed arrival days, held in memory (no S3 transfer is measured: in a
Lambda the downloads overlap the decoding, 8 objects ahead).

First run, the same objects each way, each in a fresh process, alternating, median of the runs:

* baseline, the record path Prepare used before: ``decode_object`` (one ``json.loads`` per batch
  of lines) and ``InteractionBuilder.add`` per record;
* the columnar path Prepare runs now: `recs.training.prepare.days.PreparedDays` (pyarrow's JSON
  reader and compute kernels, one block per object, each closed day written once as Parquet, a
  row group per object) and ``InteractionBuilder.add_block``;
* pyarrow's JSON reader alone over the same objects (`recs.training.prepare.columnar.raw_blocks`,
  nothing built): the ceiling of any reader of these JSON objects built on it.

The first two end with ``InteractionBuilder.build`` (dedupe, window, identities) and must build the
same interactions (checked). Speed is events per CPU second of the process (one thread: the
JSON reader is told not to use more), so per core; memory is the peak RSS above the objects
held in memory, per event read: RSS counts everything the process holds (arrow's memory pool,
numpy's and Python's allocations, the pages of the libraries' code it ran), where tracemalloc
or arrow's pool would each see a part. The kept days the columnar path writes go to files in
a temporary directory, as they go to S3 in AWS, so that memory is Prepare's own, not a stand-in
bucket's.

Incremental: a lake of 27 kept days plus one new closed day of two sizes (4x apart); the run
reads the kept days from their Parquet, decodes only the new day's JSON and keeps it. Each
measurement is the median of 5 runs with the new day and 5 without it (the base: the kept days
read and the window's interactions built), each from the same kept copies. Its time is compared
with a first run over the same lake (everything decoded), and what the new day adds between the
two sizes of new day.
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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.environment import QuietWaiter, benchmark_main, child_result, log, reset_peak_rss, status_kib
from bench.figures import Figure, figure
from recs_tools.disk_objects import DiskObjects
from recs_tools.memory_objects import MemoryObjects

COMMAND = "python -m bench --only prepare_speed"
OBJECT_BYTES = 8 << 20
DAYS = 28
#: Runs of each kind inside one incremental measurement (their median is reported).
REPEATS = 5
#: The first run after the lake's last closed day: every day is closed, none is open.
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
GOAL_SPEEDUP = 5.0
GOAL_BYTES_PER_EVENT = 40.0


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


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def first_run_child(path: str, way: str) -> dict[str, Any]:
    """In a fresh process: one first run of Prepare's reading over the lake in ``path``."""
    import pyarrow as pa

    from recs.training.prepare import columnar
    from recs.training.prepare.days import PreparedDays
    from recs.training.prepare.interactions import InteractionBuilder
    from recs.training.prepare.lake import decode_object, decompressed

    lake = lake_of(split_objects(Path(path).read_bytes()))
    start = NOW - timedelta(days=DAYS + 1)
    pool = pa.default_memory_pool().backend_name
    before = reset_peak_rss()
    began, cpu = time.perf_counter(), _cpu()
    builder = InteractionBuilder()
    if way == "record":
        for key in lake.list_keys("events/"):
            for record in decode_object(lake.get(key)):
                builder.add(record)
    elif way == "reader":
        # pyarrow's JSON reader alone, as the columnar path calls it: no reader of these JSON
        # objects built on it can go faster, so it bounds what the columnar path can reach.
        events = 0
        for key in lake.list_keys("events/"):
            with contextlib.suppress(columnar.NotPlainError):
                events += sum(block.num_rows for block in columnar.raw_blocks(decompressed(lake.get(key))))
        cpu_seconds = _cpu() - cpu
        return {
            "way": way,
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
    interactions = builder.build(start_ts=0.0, end_ts=4e9)
    cpu_seconds, seconds = _cpu() - cpu, time.perf_counter() - began
    peak = (status_kib("VmHWM") - before) * 1024
    return {
        "way": way,
        "arrowMemoryPool": pool,
        "events": builder.read,
        "interactions": len(interactions),
        "digest": _digest(interactions),
        "seconds": round(seconds, 3),
        "cpuSeconds": round(cpu_seconds, 3),
        "eventsPerCpuSecond": round(builder.read / cpu_seconds),
        "peakBytesPerEvent": round(peak / builder.read, 1),
        "peakRssMiB": round(peak / 2**20, 1),
    }


def incremental_child(path: str, new_day_events: int, largest_new_day: int) -> dict[str, Any]:
    """In a fresh process: 27 days kept by an earlier run; a run with nothing new (the base); then
    a new closed day of about ``new_day_events`` and the run that follows it. The kept days are
    the same whatever the new day's size (the tail for the largest new day is set aside)."""
    from recs.training.prepare.days import PreparedDays
    from recs.training.prepare.interactions import InteractionBuilder

    objects = split_objects(Path(path).read_bytes(), OBJECT_BYTES // 8)
    per_event = sum(len(o) for o in objects) / max(sum(o.count(b"\n") for o in objects), 1)

    def count(events: int) -> int:
        return max(1, round(events * per_event / (OBJECT_BYTES // 8)))

    kept, tail = objects[: -count(largest_new_day)], objects[-count(largest_new_day) :]
    new = tail[: count(new_day_events)]
    lake = lake_of(kept, DAYS - 1, (NOW - timedelta(days=DAYS)).replace(hour=0))
    artifacts = MemoryObjects()
    start = NOW - timedelta(days=DAYS + 1)
    yesterday = NOW - timedelta(days=1)
    for _ in PreparedDays(lake, artifacts, "events/").blocks(start, yesterday):
        pass  # the earlier run keeps the 27 days

    def timed_run(now: datetime, kept: dict[str, bytes]) -> tuple[float, int, dict[str, int]]:
        """One run over the lake with the kept days ``kept`` (a copy: each run starts alike)."""
        began = time.perf_counter()
        days = PreparedDays(lake, MemoryObjects(kept), "events/")
        builder = InteractionBuilder()
        for block in days.blocks(start, now):
            builder.add_block(block)
        builder.build(start_ts=0.0, end_ts=4e9)
        return time.perf_counter() - began, builder.read, days.stats.as_dict()

    kept_days = dict(artifacts.objects)
    base_runs = [timed_run(yesterday, kept_days) for _ in range(REPEATS)]
    kept_events = base_runs[0][1]
    kept_bytes = sum(len(data) for key, data in kept_days.items() if key.endswith(".parquet"))
    day = yesterday.replace(hour=0)
    for i, data in enumerate(new):
        lake.put(f"events/{day:%Y/%m/%d}/{i % 24:02d}/new-{i:06d}", data)
    runs = [timed_run(NOW, kept_days) for _ in range(REPEATS)]
    seconds = statistics.median(run[0] for run in runs)
    base_seconds = statistics.median(run[0] for run in base_runs)
    return {
        "newDayEvents": runs[0][1] - kept_events,
        "events": runs[0][1],
        "seconds": round(seconds, 3),
        "baseSeconds": round(base_seconds, 3),
        "newDaySeconds": round(seconds - base_seconds, 3),
        "keptBytesPerEvent": round(kept_bytes / max(kept_events, 1), 1),
        "days": runs[0][2],
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
            path = Path(tmp) / f"lake-{n}.ndjson"
            path.write_bytes(b"".join(lake_objects(n)))
            by_way: dict[str, list[dict[str, Any]]] = {"record": [], "columnar": [], "reader": []}
            for repeat in range(repeats):
                for way in by_way:  # alternating: a neighbour's load hits every way alike
                    quiet()
                    by_way[way].append(_child(["--first-run", str(path), way]))
                    log(f"  {n:,} events, {way} #{repeat + 1}: {json.dumps(by_way[way][-1])}")
            digests = {row["digest"] for rows in by_way.values() for row in rows if "digest" in row}
            if len(digests) != 1:
                raise RuntimeError(f"the two paths built different interactions at {n:,} events: {digests}")
            first_runs.append({"events": n, **{way: _median_row(rows) for way, rows in by_way.items()}})
            if n == sizes[-1]:
                for new_day in new_days:
                    rows = []
                    for _ in range(repeats):
                        quiet()
                        rows.append(_child(["--incremental", str(path), str(new_day), str(new_days[-1])]))
                    incremental.append(_median_row(rows, "seconds"))
                    log(f"  incremental, new day of {new_day:,}: {json.dumps(incremental[-1])}")
            path.unlink()
    return {
        "command": COMMAND,
        "seeds": {"shop": 42},
        "figures": _figures(first_runs, incremental),
        "firstRuns": first_runs,
        "incremental": incremental,
        "secondsWaitedForAQuietMachine": round(quiet.waited, 1),
    }


def _figures(first_runs: list[dict[str, Any]], incremental: list[dict[str, Any]]) -> list[Figure]:
    area = "Prepare"
    rows: list[Figure] = []
    for run_row in first_runs:
        record, columnar, reader = run_row["record"], run_row["columnar"], run_row["reader"]
        n = f"{run_row['events']:,}"
        speedup = columnar["eventsPerCpuSecond"] / record["eventsPerCpuSecond"]
        rows.append(
            figure(
                area,
                f"first run, {n} lake records: pyarrow's JSON reader alone, events per CPU second",
                reader["eventsPerCpuSecond"],
                "events/s",
                baseline="the record path, same objects, same run",
                baseline_value=record["eventsPerCpuSecond"],
                note="the parse only, as the columnar path calls it (nothing built): the most any "
                "reader of these JSON objects built on it can reach",
                digits=0,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records: events per CPU second",
                columnar["eventsPerCpuSecond"],
                "events/s",
                baseline="the record path, same objects, same run",
                baseline_value=record["eventsPerCpuSecond"],
                goal=f">= {GOAL_SPEEDUP:g}x the record path",
                met=speedup >= GOAL_SPEEDUP,
                note="the same interactions both ways (checked)",
                digits=0,
            )
        )
        rows.append(
            figure(
                area,
                f"first run, {n} lake records: peak memory per event",
                columnar["peakBytesPerEvent"],
                "bytes",
                baseline="the record path",
                baseline_value=record["peakBytesPerEvent"],
                goal=f"<= {GOAL_BYTES_PER_EVENT:g} bytes",
                met=columnar["peakBytesPerEvent"] <= GOAL_BYTES_PER_EVENT,
                note=f"peak RSS above the objects: {columnar['peakRssMiB']:,} MiB "
                f"vs {record['peakRssMiB']:,}",
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
                f"first run: memory per additional event, {small['events']:,} to {large['events']:,} records",
                marginal("columnar"),
                "bytes",
                baseline="the record path",
                baseline_value=marginal("record"),
                note="the slope of peak RSS between the two sizes: what each event of a larger window costs",
                digits=1,
            )
        )
    if incremental:
        largest = first_runs[-1]["columnar"]
        for row in incremental:
            rows.append(
                figure(
                    area,
                    f"next run, a new day of {row['newDayEvents']:,} events after 27 kept days",
                    row["seconds"],
                    "s",
                    baseline="a first run over a lake of the same size (everything decoded)",
                    baseline_value=largest["seconds"],
                    note=f"{row['newDaySeconds']} s more than the same run with nothing new "
                    f"({row['baseSeconds']} s: the kept days from Parquet, and the build)",
                    digits=2,
                )
            )
        if len(incremental) == 2:
            small, large = incremental
            rows.append(
                figure(
                    area,
                    "next run: what the new day adds, larger day vs smaller day",
                    large["newDaySeconds"] / small["newDaySeconds"],
                    "x",
                    baseline="the ratio of their events",
                    baseline_value=large["newDayEvents"] / small["newDayEvents"],
                    note="time proportional to the new events when the two ratios agree",
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
