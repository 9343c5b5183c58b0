"""Training at growing sizes: time and memory per step, where one Lambda stops being enough, and
the whole workflow on the local state machine.

    python -m bench --quick --only training_scale   # 10k and 100k users; state machine: test, demo
    python -m bench --full --only training_scale    # up to 1M users; state machine: up to 10k users
    python -m bench.training_scale [--quick]        # JSON to stdout

Steps at growing sizes: ``python -m recs_tools.scale.training`` (the training code's own measuring
tool) runs each stage of each size in a fresh process, as the workflow runs each step in an
invocation of its own, so peak memory (the process's peak RSS, counted from once the table is drawn)
is that stage's own. Model sizes are drawn shop-like tables (power-law popularity, 40 interactions
per user, the demo shop's event mix, 8 sessions per user) through the same build code as the
workflow and ``recs train`` (`recs.training.build`): signals, the ALS fit, one fit of the parameter
search, the session path's choice, the Train step's fit and lists (``train_version``: signals, fit,
similar items, bought-together, popular and trending), the Evaluate step (``evaluate_version``) and
top-K of every user; at the largest size, also the whole Train step as the training function runs it
(the parameter search told the function's 900 s deadline, the session path's choice, the fit and its
lists). A size's memory is its largest step's (the Train step's parts and the Evaluate step), and
the whole Train step's where it ran. Defaults: 32 factors, 15 iterations, 2 solver threads with BLAS
pinned to one. Prepare is measured as it runs (its columnar first run, `bench.prepare_speed`, where
it is also compared with the record path it replaced): the lake as Firehose writes it now, Parquet
objects of records exactly as ingest writes them (the demo shop's events through the ingest service,
repeated as new cohorts of shoppers: fresh event, user, anonymous and session ids; converted as
Firehose's record format conversion converts them) under closed days, decoded and indexed in a fresh
process; its memory is the peak above the objects held in memory (the Lambda streams them, 8 objects
ahead).

One Lambda (10,240 MB, 6 vCPU, 900 s) per step: the time of each step is extrapolated along the
power law through the two largest measured sizes, and memory along the straight line through
them, assuming a Lambda vCPU is as fast as a core here and giving no credit for its 6 vCPUs
over the 2 used here. These limits are extrapolations, labelled so.

The whole workflow: a seeded synthetic shop's events are posted through the ingest function
into the local stack (moto: Firehose -> S3 lake), the catalog is exported, and the real state
machine definition runs (Prepare -> ... -> Flip -> Cleanup) with its Lambda tasks on the real
handlers; its baseline is ``recs train`` (`recs_tools.training.offline.run_offline`) on the same
events, the same training code in one process without the AWS emulation. Median of 3 runs
each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.environment import (
    REPO_ROOT,
    QuietWaiter,
    child_result,
    emit,
    log,
    quiet_known_warnings,
    quiet_stdout,
)
from bench.figures import Figure, figure
from recs_tools.deploy.cost import LAMBDA_MIB, LAMBDA_SECONDS, train_step_bound

COMMAND = "python -m bench --only training_scale"
SEED = 1
SHARD_USERS = 20_000


# ---------------------------------------------------------------------------------- steps by size
def measure_steps(events: list[int], sizes: list[str], quiet: QuietWaiter) -> list[dict[str, Any]]:
    """Prepare's parse (here) and the model steps (``python -m recs_tools.scale.training``), one JSON
    row per size, each from a fresh process."""
    from bench.prepare_speed import parquet_objects, split_objects, write_objects

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as tmp:
        for n in events:
            # The lake as Firehose writes it now: each object's records as one Parquet object.
            path = Path(tmp) / f"lake-{n}.parquet"
            write_objects(path, parquet_objects(split_objects(b"".join(lake_objects(n)))))
            quiet()
            rows.append(_child(["--prepare-child", str(path)]))
            shutil.rmtree(path)
    quiet()
    command = [
        sys.executable,
        "-m",
        "recs_tools.scale.training",
        "--sizes",
        *sizes,
        "--threads",
        "2",
        # The whole Train step at the largest size only: it spends its search budget each time.
        "--whole-step-at",
        sizes[-1],
    ]
    log("  " + " ".join(command[1:]))
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"recs_tools.scale.training failed: {done.stderr[-2000:]}")
    rows += [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    for row in rows:
        log(f"  {json.dumps(row)}")
    return rows


def _child(arguments: list[str]) -> dict[str, Any]:
    from bench.prepare_speed import child_environment

    return child_result("bench.training_scale", arguments, child_environment())


def lake_objects(events: int, object_bytes: int = 8 << 20) -> list[bytes]:
    """``events`` lake records exactly as ingest writes them (the demo shop's events through
    `IngestService`: validated, pseudonymized, scrubbed, NDJSON), repeated, in objects of about
    ``object_bytes`` like Firehose's.

    Each repetition is a new cohort of shoppers: fresh event ids, and fresh user, anonymous and
    session ids (`new_shoppers`), so that a lake's visitors and sessions grow with its events as a
    real shop's do (the demo shop: about 18 events per visitor and 6.3 per session). Repeating the
    same shoppers would leave Prepare's per-visitor and per-session memory out of its per-event
    figures."""
    import uuid

    from bench.ingest_throughput import _CountingSink, _requests
    from recs.ingest.service import IngestService
    from recs.ingest.validation import TimeWindow
    from recs.pseudonyms import Pseudonymizer

    class Keep(_CountingSink):
        def __init__(self) -> None:
            super().__init__()
            self.records: list[bytes] = []

        def put_records(self, records: Sequence[bytes]) -> None:
            self.records.extend(records)

    requests, _, now = _requests("demo")
    sink = Keep()
    service = IngestService(
        sink,
        Pseudonymizer(b"bench-prepare-key-0123456789abcdef0123"),
        None,
        window=TimeWindow(max_age=timedelta(days=90), max_future=timedelta(minutes=5)),
        max_body_bytes=1 << 20,
        clock=lambda: now,
    )
    for request in requests:
        service.ingest(request)
    event_id = re.compile(rb'"eventId":"[^"]*"')
    objects: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for n in range(events):
        copy, at = divmod(n, len(sink.records))
        record = sink.records[at]
        if copy:  # a copy is a new event of new shoppers, not a re-sent duplicate
            record = event_id.sub(f'"eventId":"{uuid.UUID(int=n)}"'.encode(), record, count=1)
            record = new_shoppers(record, copy)
        current.append(record)
        size += len(record)
        if size >= object_bytes:
            objects.append(b"".join(current))
            current, size = [], 0
    if current:
        objects.append(b"".join(current))
    return objects


_SHOPPER_IDS = re.compile(rb'"(userId|anonId|sessionId)":"([a-z]+_)?([^"]*)"')


def new_shoppers(record: bytes, copy: int) -> bytes:
    """A lake record with its user, anonymous and session ids replaced by those of repetition
    ``copy`` of the same shoppers (the prefix kept, the rest a digest of the id and the copy:
    the same id in the same copy always gets the same replacement)."""

    def replaced(match: re.Match[bytes]) -> bytes:
        field, prefix, value = match.group(1), match.group(2) or b"", match.group(3)
        digest = hashlib.blake2b(value + b"/%d" % copy, digest_size=16).hexdigest().encode()
        return b'"%s":"%s%s"' % (field, prefix, digest)

    return _SHOPPER_IDS.sub(replaced, record)


def prepare_child(path: str) -> dict[str, Any]:
    """In a fresh process: Prepare's reading as it runs now (`bench.prepare_speed`'s first run:
    the columnar path over the Parquet lake objects in ``path`` filed under closed days) and its
    peak memory above the objects held in memory."""
    from bench.prepare_speed import first_run_child

    row = first_run_child(path, "columnar")
    return {
        "stage": "parse",
        "events": row["events"],
        "interactions": row["interactions"],
        "seconds": row["seconds"],
        "eventsPerSecond": row["eventsPerCpuSecond"],
        "bytesPerEvent": round(row["lakeBytesPerEvent"]),
        "lake": row["lake"],
        "peakRssMiB": row["peakRssMiB"],
        "memory": "peak above the lake objects held in memory",
    }


def _power_law(x1: float, y1: float, x2: float, y2: float, target: float) -> float:
    """x where the power law through (x1, y1) and (x2, y2) reaches ``target``."""
    exponent = math.log(y2 / y1) / math.log(x2 / x1)
    return float(x2 * (target / y2) ** (1.0 / exponent))


def _linear(x1: float, y1: float, x2: float, y2: float, target: float) -> float:
    slope = (y2 - y1) / (x2 - x1)
    return float(x2 + (target - y2) / slope)


def lambda_limits(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Where each step reaches 900 s or 10 GiB, extrapolated from the two largest sizes."""
    models = sorted((r for r in rows if r["stage"] == "model"), key=lambda r: r["interactions"])
    parses = sorted((r for r in rows if r["stage"] == "parse"), key=lambda r: r["events"])
    limits: dict[str, Any] = {}
    if len(models) >= 2:
        small, large = models[-2], models[-1]
        n1, n2 = small["interactions"], large["interactions"]
        for step in ("train_version", "evaluate"):
            t1, t2 = small["seconds"][step], large["seconds"][step]
            limits[f"{step}InteractionsAt900s"] = round(_power_law(n1, t1, n2, t2, LAMBDA_SECONDS))
            limits[f"{step}Exponent"] = round(math.log(t2 / t1) / math.log(n2 / n1), 2)
        m1, m2 = small["peakRssMiB"], large["peakRssMiB"]
        limits["modelStepsInteractionsAt10GiB"] = round(_linear(n1, m1, n2, m2, LAMBDA_MIB))
        limits["modelStepsBytesPerInteraction"] = round((m2 - m1) * 2**20 / (n2 - n1), 1)
        per_shard = large["seconds"]["rank_all_users"] / max(large["users"] / SHARD_USERS, 1.0)
        limits["rankSecondsPerShardOf20kUsers"] = round(per_shard, 2)
        limits["basis"] = f"{small['users']:,} and {large['users']:,} users"
    if parses:
        large_parse = parses[-1]
        limits["prepareEventsAt900s"] = round(large_parse["eventsPerSecond"] * LAMBDA_SECONDS)
        if len(parses) >= 2:
            e1, e2 = parses[-2]["events"], large_parse["events"]
            limits["prepareEventsAt10GiB"] = round(
                _linear(e1, parses[-2]["peakRssMiB"], e2, large_parse["peakRssMiB"], LAMBDA_MIB)
            )
    return limits


# ---------------------------------------------------------------------------------- the workflow
#: Shops the whole workflow runs on: label -> (preset, overrides).
SHOPS: dict[str, tuple[str, dict[str, int]]] = {
    "test": ("test", {}),
    "demo": ("demo", {}),
    "demo x10k users": ("demo", {"n_users": 10_000, "n_anonymous": 4_000, "n_products": 2_000}),
}


def _shop_events(label: str, now: datetime) -> Any:
    from recs_tools.synthetic import build_config, generate_shop

    preset, overrides = SHOPS[label]
    return generate_shop(build_config(preset, seed=SEED, now=now, **overrides))


def state_machine_once(preset: str) -> dict[str, Any]:
    """Post a shop through the ingest function, export its catalog, run the state machine."""
    from recs.store_layout import CATALOG_OBJECT_KEY
    from recs_tools.local.stack import LocalStack
    from recs_tools.synthetic import iter_batches

    shop = _shop_events(preset, datetime.now(UTC).replace(microsecond=0))
    with quiet_stdout(), LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        began = time.perf_counter()
        for batch in iter_batches(shop.events, size=500):
            response = stack.post_events({"events": batch})
            if response["statusCode"] not in (202, 207):
                raise RuntimeError(f"ingest answered {response['statusCode']}: {response.get('body')}")
        ingest_seconds = time.perf_counter() - began
        catalog = "\n".join(json.dumps(product) for product in shop.catalog()).encode()
        bucket = stack.physical["ArtifactBucket"]
        stack.client("s3").put_object(Bucket=bucket, Key=CATALOG_OBJECT_KEY, Body=catalog)
        began = time.perf_counter()
        execution = stack.run_training(timeout_seconds=1800)
        seconds = time.perf_counter() - began
        if execution["status"] != "SUCCEEDED":
            raise RuntimeError(f"state machine {execution['status']}: {execution.get('cause')}")
        states = _state_seconds(stack.execution_history(execution["executionArn"]))
    return {
        "events": shop.n_events,
        "ingestSeconds": round(ingest_seconds, 2),
        "seconds": seconds,
        "states": states,
    }


def _state_seconds(history: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds from each state's entry to its exit (moto stamps history events as they happen)."""
    entered: dict[str, Any] = {}
    spent: dict[str, float] = {}
    for event in history:
        if "stateEnteredEventDetails" in event:
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif "stateExitedEventDetails" in event:
            name = event["stateExitedEventDetails"]["name"]
            if name in entered:
                spent[name] = round((event["timestamp"] - entered[name]).total_seconds(), 3)
    return spent


def offline_once(preset: str) -> dict[str, Any]:
    """``recs train`` on the same shop's events: the training code without AWS emulation."""
    from recs.training.parameters import TrainingParameters
    from recs.training.prepare.catalog import Catalog
    from recs_tools.training.offline import run_offline

    shop = _shop_events(preset, datetime.now(UTC).replace(microsecond=0))
    catalog = Catalog.from_jsonl(json.dumps(product) for product in shop.catalog())
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as out:
        began = time.perf_counter()
        run_offline(shop.events, Path(out), TrainingParameters(), catalog=catalog)
        return {"events": shop.n_events, "seconds": time.perf_counter() - began}


def measure_workflow(preset: str, repeats: int, quiet: QuietWaiter) -> dict[str, Any]:
    runs, offline = [], []
    for repeat in range(repeats):  # the two alternate, so a neighbour's load hits both alike
        quiet()
        runs.append(state_machine_once(preset))
        offline.append(offline_once(preset))
        log(f"  {preset} #{repeat + 1}: state machine {runs[-1]['seconds']:.1f} s")
        log(f"  {preset} #{repeat + 1}: recs train {offline[-1]['seconds']:.1f} s")
    return {
        "preset": preset,
        "events": runs[0]["events"],
        "stateMachineMedianSeconds": round(statistics.median(r["seconds"] for r in runs), 2),
        "offlineMedianSeconds": round(statistics.median(r["seconds"] for r in offline), 2),
        "stateSecondsOfMedianRun": sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]["states"],
        "ingestSeconds": [r["ingestSeconds"] for r in runs],
        "runs": [round(r["seconds"], 2) for r in runs],
        "offlineRuns": [round(r["seconds"], 2) for r in offline],
    }


# ---------------------------------------------------------------------------------- the run
def run(quick: bool) -> dict[str, Any]:
    """Steps at growing sizes, the one-Lambda limits, and the state machine at small sizes.

    Parameters
    ----------
    quick
        250k and 1M events, 10k/100k users, the state machine on the ``test`` and ``demo`` shops;
        otherwise 1M and 4M events, 10k/100k/400k/1M users, and also a demo-like shop of 10k users.

    Returns
    -------
    dict
        ``figures``, ``steps`` (one row per size), ``lambdaLimits`` and ``workflow``.
    """
    if quick:
        events, sizes, presets = [250_000, 1_000_000], ["10000x2000", "100000x10000"], ["test", "demo"]
    else:
        events = [1_000_000, 4_000_000]
        sizes = ["10000x2000", "100000x10000", "400000x20000", "1000000x50000"]
        presets = ["test", "demo", "demo x10k users"]
    quiet = QuietWaiter(threshold=20.0, per_wait=30.0, budget=60.0 if quick else 300.0)
    steps = measure_steps(events, sizes, quiet)
    limits = lambda_limits(steps)
    workflow = [measure_workflow(preset, 3, quiet) for preset in presets]
    return {
        "command": COMMAND,
        "seeds": {"tables": 1, "shops": SEED},
        "figures": _figures(steps, limits, workflow),
        "notes": _notes(limits),
        "steps": steps,
        "lambdaLimits": limits,
        "workflow": workflow,
        "secondsWaitedForAQuietMachine": round(quiet.waited, 1),
    }


def _figures(
    steps: list[dict[str, Any]], limits: dict[str, Any], workflow: list[dict[str, Any]]
) -> list[Figure]:
    area = "Training scale"
    rows: list[Figure] = []
    for row in steps:
        if row["stage"] == "parse":
            rows.append(
                figure(
                    area,
                    f"Prepare: decode and index {row['events']:,} lake records (Parquet objects)",
                    row["eventsPerSecond"],
                    "events/s",
                    note=f"{row['seconds']} s; peak RSS {row['peakRssMiB']:,} MiB",
                    digits=0,
                )
            )
    for row in steps:
        if row["stage"] != "model":
            continue
        seconds = row["seconds"]
        size = (
            f"{row['users']:,} users x {row['items']:,} items ({row['interactions'] / 1e6:.1f}M interactions)"
        )
        rows.append(
            figure(
                area,
                f"Train step (train_version), {size}",
                seconds["train_version"],
                "s",
                baseline="its ALS fit alone",
                baseline_value=seconds["fit"],
                goal=f"<= {LAMBDA_SECONDS:g} s (one Lambda)",
                met=seconds["train_version"] <= LAMBDA_SECONDS,
                digits=2,
            )
        )
        if "search_fit" in seconds:
            budget = float(row.get("searchBudgetSeconds", 0.0))
            session_choice = seconds.get("session_choice", 0.0)
            worst = train_step_bound(seconds, budget)
            fits_in_budget = int(budget // max(seconds["search_fit"], 1e-9))
            rows.append(
                figure(
                    area,
                    f"one fit of the parameter search, {size}",
                    seconds["search_fit"],
                    "s",
                    baseline="its ALS fit alone",
                    baseline_value=seconds["fit"],
                    note=f"the {budget:g} s budget allows about {fits_in_budget} fits at this size",
                    digits=2,
                )
            )
            rows.append(
                figure(
                    area,
                    f"Train step with its search spending its budget, {size}",
                    worst,
                    "s",
                    goal=f"<= {LAMBDA_SECONDS:g} s (one Lambda)",
                    met=worst <= LAMBDA_SECONDS,
                    note=f"train_version + the search (its {budget:g} s budget, or its first fit if longer: "
                    "no fit starts that would end past it)"
                    + (f" + the session path's choice ({session_choice:g} s)" if session_choice else ""),
                    digits=2,
                )
            )
        if "train_step" in seconds:
            step = row["trainStep"]
            rows.append(
                figure(
                    area,
                    f"Train step as the training function runs it, {size}",
                    seconds["train_step"],
                    "s",
                    goal=f"<= {LAMBDA_SECONDS:g} s (one Lambda)",
                    met=seconds["train_step"] <= LAMBDA_SECONDS,
                    note=f"search, session choice, fit and lists, told its {step['deadlineSeconds']:g} s "
                    f"deadline: the search made {step['fits']} fits in {step['searchSeconds']} s "
                    f"(stopped by: {step['stoppedBy']}); the artifacts' load and store not included",
                    digits=2,
                )
            )
        rows.append(figure(area, f"Evaluate step, {size}", seconds["evaluate"], "s", digits=2))
        rows.append(
            figure(
                area,
                f"top-K of every user, {size}",
                seconds["rank_all_users"],
                "s",
                baseline="ALS fit",
                baseline_value=seconds["fit"],
                digits=2,
            )
        )
        rows.append(
            figure(
                area,
                f"peak RSS of the largest model step, {size}",
                row["peakRssMiB"],
                "MiB",
                goal=f"<= {LAMBDA_MIB:,.0f} MiB (one Lambda)",
                met=row["peakRssMiB"] <= LAMBDA_MIB,
                note=_stage_peaks(row),
                digits=1,
            )
        )
        if "peakRssMiB" in row.get("trainStep", {}):
            peak = row["trainStep"]["peakRssMiB"]
            rows.append(
                figure(
                    area,
                    f"peak RSS of the Train step as the training function runs it, {size}",
                    peak,
                    "MiB",
                    goal=f"<= {LAMBDA_MIB:,.0f} MiB (one Lambda)",
                    met=peak <= LAMBDA_MIB,
                    note="in a fresh process, counted from once the table is drawn: the table, the "
                    "search told its deadline, the session choice, the fit and its lists",
                    digits=1,
                )
            )
    if "train_versionInteractionsAt900s" in limits:
        rows.append(
            figure(
                area,
                "extrapolated: interactions one Lambda's Train step handles in 900 s",
                limits["train_versionInteractionsAt900s"],
                "interactions",
                note=f"power law, exponent {limits['train_versionExponent']}, through {limits['basis']}",
                digits=0,
            )
        )
        rows.append(
            figure(
                area,
                "extrapolated: interactions at 10 GiB (the largest model step)",
                limits["modelStepsInteractionsAt10GiB"],
                "interactions",
                note=f"{limits['modelStepsBytesPerInteraction']} bytes per interaction",
                digits=0,
            )
        )
    if "prepareEventsAt900s" in limits:
        rows.append(
            figure(
                area,
                "extrapolated: events one Lambda's Prepare parses in 900 s",
                limits["prepareEventsAt900s"],
                "events",
                note="parse only; S3 reads overlap it",
                digits=0,
            )
        )
    if "prepareEventsAt10GiB" in limits:
        rows.append(
            figure(
                area,
                "extrapolated: events at 10 GiB (Prepare)",
                limits["prepareEventsAt10GiB"],
                "events",
                digits=0,
            )
        )
    for entry in workflow:
        rows.append(
            figure(
                area,
                f"whole workflow on the local state machine, '{entry['preset']}' shop ({entry['events']:,} "
                "events)",
                entry["stateMachineMedianSeconds"],
                "s",
                baseline="recs train on the same events",
                baseline_value=entry["offlineMedianSeconds"],
                digits=2,
                note="median of 3; per state: "
                + ", ".join(f"{k} {v:g} s" for k, v in entry["stateSecondsOfMedianRun"].items()),
            )
        )
    return rows


def _stage_peaks(row: dict[str, Any]) -> str:
    """Which stage the largest peak is, and every stage's own."""
    peaks = row.get("stagePeakRssMiB")
    if not peaks:
        return "one process ran every step (an upper bound)"
    each = ", ".join(f"{stage} {peak:,}" for stage, peak in peaks.items())
    return f"each stage in a fresh process, counted from once the table is drawn (MiB): {each}"


def _notes(limits: dict[str, Any]) -> list[str]:
    if "train_versionInteractionsAt900s" not in limits:
        return []
    notes = [
        "One training Lambda (10 GB, 6 vCPU, 15 min) runs each step of the workflow as its own invocation."
        " Extrapolated from the measured sizes (a Lambda vCPU taken as one core here, no credit for 6 vCPUs):"
        f" the Train step reaches 900 s at about {limits['train_versionInteractionsAt900s'] / 1e6:.0f}M"
        f" interactions and the largest model step reaches 10 GiB at about"
        f" {limits['modelStepsInteractionsAt10GiB'] / 1e6:.0f}M interactions.",
    ]
    if "prepareEventsAt900s" in limits:
        text = f"Prepare parses about {limits['prepareEventsAt900s'] / 1e6:.0f}M events in 900 s"
        if "prepareEventsAt10GiB" in limits:
            text += f" and holds about {limits['prepareEventsAt10GiB'] / 1e6:.0f}M events in 10 GiB"
        notes.append(text + ".")
    notes.append(
        f"Top-K and publish never run in one invocation: each shard of {SHARD_USERS:,} users ranks in about"
        f" {limits['rankSecondsPerShardOf20kUsers']} s at the largest size (plus its DynamoDB writes), and"
        " the Distributed Map runs the shards in parallel; more users only mean more shards."
    )
    return notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--prepare-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare_child:
        print(json.dumps(prepare_child(args.prepare_child)))
        return 0
    quiet_known_warnings()
    emit(run(quick=args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
