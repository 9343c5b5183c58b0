"""Where the slowest stage of each path spends its time: cProfile of ingest, serving and training.

    python -m bench --quick --only profiles
    python -m bench.profiles [--quick]          # JSON to stdout

Stages profiled (the slowest of each path in the other benchmarks):

* ingest: ``IngestService.ingest`` over every 500-event request of the demo shop (as in the
  ingest benchmark);
* serving: the recommend handler on cache hits, in-process with a real redis-server (as in the
  serving benchmark; homepage, known users with a session);
* training, Prepare: lake records as ingest writes them through ``decode_object`` and
  ``InteractionBuilder`` (its parse is the per-event cost that limits one Lambda's window);
* training, Train step: ``train_version`` on a drawn shop-like table (100k users x 10k items
  in the full run, 20k x 4k in the quick one).

Each table lists the functions with the most own time (``tottime``) as a share of the profiled
stage, and the notes the own time by package; cProfile's overhead inflates many small Python
calls, so shares are indicative and the before/after figures of any change come from the
benchmarks themselves (section Profile-driven changes). cProfile sees the main thread only:
in the Train step, the time the main thread waits for the ALS solver's and top-K's worker
threads (numpy and BLAS work) shows up as ``acquire`` of a lock.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.environment import REPO_ROOT, benchmark_main, log
from bench.figures import Figure, figure

COMMAND = "python -m bench --only profiles"
TOP = 8


def _label(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    path = Path(filename)
    if filename.startswith("~") or filename == "<built-in>" or not path.is_absolute():
        return function.strip("<>").replace("built-in method ", "") if filename == "~" else function
    try:
        relative = path.relative_to(REPO_ROOT / "layers" / "common")
    except ValueError:
        parts = path.parts
        relative = (
            Path(*parts[parts.index("site-packages") + 1 :]) if "site-packages" in parts else Path(path.name)
        )
    return f"{relative}:{line}({function})"


def _package(filename: str) -> str:
    """Where own time was spent: a site-package, a ``recs`` sub-package, or the standard library."""
    if filename == "~":
        return "C functions and methods (numpy, pydantic-core, sockets, ...)"
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    if "recs" in parts:
        sub = parts[parts.index("recs") + 1 :]
        return "recs." + sub[0].removesuffix(".py") if len(sub) > 1 else "recs"
    if "functions" in parts:
        return "functions (handlers)"
    return "python standard library"


def profile(stage: Callable[[], Any]) -> dict[str, Any]:
    """Run ``stage`` under cProfile; its wall time, the functions and packages with the most own time."""
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    stage()
    profiler.disable()
    wall = time.perf_counter() - began
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max(sum(value[2] for value in raw.values()), 1e-9)
    rows = sorted(raw.items(), key=lambda item: -item[1][2])
    top = [
        {
            "function": _label(key),
            "calls": int(value[1]),
            "ownSeconds": round(value[2], 4),
            "share": round(value[2] / total, 3),
            "cumulativeSeconds": round(value[3], 4),
        }
        for key, value in rows[:TOP]
    ]
    packages: dict[str, float] = {}
    for key, value in raw.items():
        packages[_package(key[0])] = packages.get(_package(key[0]), 0.0) + value[2]
    by_package = {
        name: round(seconds / total, 3) for name, seconds in sorted(packages.items(), key=lambda kv: -kv[1])
    }
    return {"profiledSeconds": round(wall, 3), "top": top, "ownTimeByPackage": by_package}


# ---------------------------------------------------------------------------------- the stages
def ingest_stage() -> Callable[[], Any]:
    from bench.ingest_throughput import _one_run, _requests

    requests, _, now = _requests("demo")
    _one_run(requests[:2], now)
    return lambda: _one_run(requests, now)


def prepare_stage(events: int) -> Callable[[], Any]:
    from bench.training_scale import lake_objects
    from recs.training.prepare.interactions import InteractionBuilder
    from recs.training.prepare.lake import decode_object

    objects = lake_objects(events)

    def parse() -> None:
        builder = InteractionBuilder()
        for data in objects:
            for record in decode_object(data):
                builder.add(record)
        builder.build(start_ts=0.0, end_ts=4e9)

    return parse


def train_stage(users: int, items: int) -> Callable[[], Any]:
    import numpy as np

    from recs.training.build import train_version
    from recs.training.parameters import TrainingParameters
    from recs_tools.scale.training import synthetic_interactions

    interactions = synthetic_interactions(users, items, 40.0, seed=1)
    unavailable = np.zeros(items, dtype=np.bool_)
    end = float(interactions.timestamp.max()) + 1
    params = TrainingParameters(model_family="als", als_threads=2)
    return lambda: train_version(interactions, unavailable, interactions.item_category, params, end_ts=end)


def serving_profile(requests: int) -> dict[str, Any]:
    """The handler on cache hits, in the world of the serving benchmark."""
    from bench.environment import quiet_stdout
    from bench.serving import ROUTE, _event, _World
    from recs.adapters.dynamodb import DynamoTable
    from recs.pseudonyms import Pseudonymizer
    from recs.store_layout import POINTER_KEY
    from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack

    world = _World(1_000, 500)
    pseudonyms = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
    with quiet_stdout(), LocalStack() as stack:
        if stack.redis is None:
            raise RuntimeError("redis-server is required to profile serving")
        from bench.serving import GENERATED, VERSION

        models = DynamoTable(stack.physical["ModelTable"], stack.client("dynamodb"))
        models.put_many(world.rows(pseudonyms))
        models.put(
            {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": VERSION, "generatedAt": GENERATED}
        )
        DynamoTable(stack.physical["StateTable"], stack.client("dynamodb")).put_many(
            world.sessions(pseudonyms)
        )
        function = stack.function("RecommendFunction")
        handler, context = function.load(), function.context()
        events = [_event(userId=user) for user in world.users[:50]]
        for event in events:
            if handler(event, context)["statusCode"] != 200:
                raise RuntimeError(f"{ROUTE} did not answer 200")

        def hits() -> None:
            for n in range(requests):
                handler(events[n % len(events)], context)

        return profile(hits)


def run(quick: bool) -> dict[str, Any]:
    """Profile the slowest stage of each path.

    Parameters
    ----------
    quick
        Smaller stages (Prepare 100k events, Train 20k x 4k, 1,000 hits) than the full run
        (200k events, 100k x 10k, 3,000 hits).

    Returns
    -------
    dict
        ``profiles`` per stage (wall time under the profiler and the top functions by own
        time) and ``figures`` (each stage's top functions as shares).
    """
    prepare_events, train_size, hits = (
        (100_000, (20_000, 4_000), 1_000)
        if quick
        else (
            200_000,
            (100_000, 10_000),
            3_000,
        )
    )
    profiles: dict[str, Any] = {}
    log("profiling ingest")
    profiles["ingest: IngestService.ingest, demo shop in 500-event requests"] = profile(ingest_stage())
    log("profiling serving")
    profiles[f"serving: recommend handler, {hits:,} cache hits in-process"] = serving_profile(hits)
    log("profiling training: Prepare parse")
    profiles[f"training: Prepare parse of {prepare_events:,} lake records"] = profile(
        prepare_stage(prepare_events)
    )
    log("profiling training: Train step")
    users, items = train_size
    profiles[f"training: Train step (train_version), {users:,} users x {items:,} items"] = profile(
        train_stage(users, items)
    )
    return {
        "command": COMMAND,
        "seeds": {"shops": 42, "tables": 1},
        "figures": _figures(profiles),
        "notes": _notes(profiles),
        "profiles": profiles,
    }


def _notes(profiles: dict[str, Any]) -> list[str]:
    """Own time by package for each stage (shares of the profiled time)."""
    notes = []
    for stage, result in profiles.items():
        shares = ", ".join(
            f"{name} {100 * share:.0f}%" for name, share in list(result["ownTimeByPackage"].items())[:6]
        )
        notes.append(f"{stage}: own time by package: {shares}.")
    return notes


def _figures(profiles: dict[str, Any]) -> list[Figure]:
    rows: list[Figure] = []
    for stage, result in profiles.items():
        for entry in result["top"][:4]:
            rows.append(
                figure(
                    "Profiles",
                    f"{stage}: {entry['function']}",
                    100 * entry["share"],
                    "% own time",
                    note=f"{entry['calls']:,} calls; stage {result['profiledSeconds']} s under the profiler",
                    digits=1,
                )
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, lambda quick: run(quick=quick), argv)


if __name__ == "__main__":
    raise SystemExit(main())
