"""Serving latency: GET /api/recommendations on a cache hit, on a miss, over HTTP, and cold import.

    python -m bench --full --only serving     # 5,000 products, 2,000 users, 5,000 requests per figure
    python -m bench --quick --only serving    # 1,000 products, 500 users, 1,000 requests per figure
    python -m bench.serving [--quick]         # the same, JSON to stdout

Everything runs on the local stack (moto for DynamoDB, a real redis-server for the cache) with
the recommend function's own handler, settings and log level (INFO: one JSON line per request,
its log line and EMF document in one, written to /dev/null). Measured in one run:

- the floor: a raw Redis GET and MGET (redis-py) and a raw DynamoDB GetItem (boto3 -> moto);
- the handler called in-process (what Lambda calls) on cache hits, per context, and the
  homepage's hits again with 20 active merchandising rules (pins, blocks, boosts and buries by
  product and category);
- a per-user cache miss (the user's keys are read from DynamoDB, shared lists from memory) and
  a cold path (memory and cache both empty);
- the same hit over local HTTP (the local API Gateway emulation, keep-alive connection);
- the cold import of the handler module in fresh interpreters, with tracing off (the local
  environment) and on (as deployed with X-Ray), median of several runs, and what costs most;
  its floor is the import of the third-party libraries it cannot do without, measured alike.

Percentiles over every request of a figure; the machine and its load average are recorded,
because other processes on a shared machine move these numbers. Writes JSON to stdout,
progress to stderr.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.environment import REPO_ROOT, QuietWaiter, benchmark_main, quiet_stdout
from bench.figures import Figure, figure, percentiles_ms
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.dynamodb_rules import DynamoRuleStore
from recs.pseudonyms import Pseudonymizer
from recs.rules.model import Rule, RuleBody, RuleChange
from recs.store_layout import (
    ALL_CATEGORIES,
    CATALOG_PK,
    POINTER_KEY,
    bought_together_pk,
    cache_key,
    list_row,
    popular_pk,
    session_key,
    similar_pk,
    trending_pk,
    user_pk,
    version_sk,
)
from recs_tools.local.http import LocalApiServer
from recs_tools.local.redis_server import free_port
from recs_tools.local.samples.common import api_event
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack

COMMAND = "python -m bench --only serving"
ROUTE = "/api/recommendations"
VERSION = "v20260101T000000Z-bench0"
GENERATED = "2026-01-01T00:00:00Z"
EXPIRES = 2**31 - 1
SEED = 5
GOALS_MS = {"cacheHitP95InProcess": 1.0, "httpP95": 5.0, "coldImportMedian": 150.0}
HEAVY = ("numpy", "scipy", "pandas", "pyarrow")

Items = list[tuple[str, float, str | None]]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- figures
_summary = percentiles_ms


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


# ---------------------------------------------------------------------------------- the world
class _World:
    """A published version in the shapes training writes (recs.store_layout), sized for the run."""

    def __init__(self, products: int, users: int) -> None:
        rng = random.Random(SEED)
        self.products = [f"sku_{n:05d}" for n in range(products)]
        self.category = {p: f"cat_{n // 100:03d}" for n, p in enumerate(self.products)}
        self.users = [f"user_{n:06d}" for n in range(users)]
        self.anons = [f"anon_{n:06d}" for n in range(users)]
        self.rng = rng

    def _ranked(self, products: Sequence[str], reason: str) -> Items:
        return [(p, round(1.0 - i / (len(products) + 1), 5), reason) for i, p in enumerate(products)]

    def rows(self, pseudonyms: Pseudonymizer) -> list[dict[str, Any]]:
        rng, rows = self.rng, []
        for product in self.products:
            rows.append(
                list_row(
                    similar_pk(product),
                    VERSION,
                    self._ranked(rng.sample(self.products, 50), "similar-items"),
                    GENERATED,
                    EXPIRES,
                )
            )
            rows.append(
                list_row(
                    bought_together_pk(product),
                    VERSION,
                    self._ranked(rng.sample(self.products, 20), "bought-together"),
                    GENERATED,
                    EXPIRES,
                )
            )
        for category in sorted(set(self.category.values())):
            members = [p for p in self.products if self.category[p] == category]
            rows.append(
                list_row(
                    popular_pk(category),
                    VERSION,
                    self._ranked(members, "category-popular"),
                    GENERATED,
                    EXPIRES,
                )
            )
            rows.append(
                list_row(
                    trending_pk(category),
                    VERSION,
                    self._ranked(members[::-1], "trending"),
                    GENERATED,
                    EXPIRES,
                )
            )
        rows.append(
            list_row(
                popular_pk(ALL_CATEGORIES),
                VERSION,
                self._ranked(self.products[:100], "popular"),
                GENERATED,
                EXPIRES,
            )
        )
        rows.append(
            list_row(
                trending_pk(ALL_CATEGORIES),
                VERSION,
                self._ranked(self.products[50:150], "trending"),
                GENERATED,
                EXPIRES,
            )
        )
        for user in self.users:
            items = self._ranked(rng.sample(self.products, 100), "similar-users")
            rows.append(list_row(user_pk(pseudonyms.user(user)), VERSION, items, GENERATED, EXPIRES))
        rows.append(
            {
                "pk": CATALOG_PK,
                "sk": version_sk(VERSION),
                "v": VERSION,
                "expiresAt": EXPIRES,
                "d": json.dumps(self.category),
            }
        )
        return rows

    def sessions(self, pseudonyms: Pseudonymizer) -> list[dict[str, Any]]:
        rows = []
        for visitor in [pseudonyms.anon(a) for a in self.anons] + [pseudonyms.user(u) for u in self.users]:
            recent = [
                [p, "view", f"2026-01-01T00:00:{s:02d}Z"]
                for s, p in enumerate(self.rng.sample(self.products, 5))
            ]
            pk, sk = session_key(visitor)
            rows.append({"pk": pk, "sk": sk, "d": json.dumps(recent), "expiresAt": EXPIRES})
        return rows


def _event(**query: str) -> dict[str, Any]:
    return api_event("GET", ROUTE, ROUTE, query=query)


# ---------------------------------------------------------------------------------- measurements
#: Waits for a quiet machine before each figure (replaced by `run` with its budget).
_quiet = QuietWaiter(threshold=20.0, per_wait=0.0, budget=0.0)
_busy: list[float | None] = []


def _settle() -> None:
    """A neighbour's job shows up as p95 outliers; wait for a quiet moment and record the load."""
    _busy.append(_quiet())


def _floor(stack: LocalStack, world: _World, repeat: int) -> dict[str, Any]:
    import redis

    assert stack.redis is not None
    client = redis.Redis.from_url(stack.redis.url)
    keys = [cache_key(VERSION, similar_pk(p)) for p in world.products[:4]]
    value = json.dumps(world._ranked(world.products[:100], "similar-users")).encode()
    client.set(keys[0], value)
    client.mset(dict.fromkeys(keys, value))
    client.get(keys[0])
    dynamodb = stack.client("dynamodb")
    table = stack.physical["ModelTable"]
    key = {
        "pk": {"S": user_pk(Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode()).user(world.users[0]))},
        "sk": {"S": version_sk(VERSION)},
    }
    dynamodb.get_item(TableName=table, Key=key)
    _settle()
    redis_get = _summary(_timed(lambda: client.get(keys[0]), repeat))
    redis_mget = _summary(_timed(lambda: client.mget(keys), repeat))
    _settle()
    get_item = _summary(_timed(lambda: dynamodb.get_item(TableName=table, Key=key), max(200, repeat // 5)))
    return {
        "redisGet": redis_get,
        "redisMget4": redis_mget,
        "dynamodbGetItemMoto": get_item,
        "valueBytes": len(value),
    }


class _Recorder:
    """Counts each served request's cache outcome and cache round trips (wraps the handler's
    observer, which receives them)."""

    def __init__(self, module: Any) -> None:
        self.outcomes: dict[str, int] = {}
        self.round_trips: dict[str, int] = {}
        original = module._observe

        def observe(outcome: Any, latency_ms: float, **keywords: Any) -> None:
            for counts, key in (
                (self.outcomes, outcome.stats.cache_outcome),
                (self.round_trips, str(outcome.stats.cache_round_trips)),
            ):
                counts[key] = counts.get(key, 0) + 1
            original(outcome, latency_ms, **keywords)

        module._observe = observe

    def take(self) -> dict[str, dict[str, int]]:
        taken = {"cacheOutcomes": self.outcomes, "cacheRoundTrips": self.round_trips}
        self.outcomes, self.round_trips = {}, {}
        return taken


def _in_process(stack: LocalStack, world: _World, repeat: int) -> dict[str, Any]:
    function = stack.function("RecommendFunction")
    lambda_handler = function.load()
    context = function.context()
    recorder = _Recorder(function.module)

    def handler(event: dict[str, Any], context: Any) -> None:
        # A benchmark of error responses would be a fast lie: every request must be served.
        response = lambda_handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"HTTP {response['statusCode']}: {response.get('body')}")

    pool = max(50, len(world.users) // 10)
    products = world.products
    scenarios = {
        "homepageKnownUser": [_event(userId=u) for u in world.users[:pool]],
        "homepageAnonymousWithSession": [_event(anonId=a) for a in world.anons[:pool]],
        "productPageKnownUser": [
            _event(userId=u, context="product-page", productId=products[i % len(products)])
            for i, u in enumerate(world.users[:pool])
        ],
        "cartAnonymous": [
            _event(anonId=a, context="cart", cartProductIds=",".join(products[i : i + 3]))
            for i, a in enumerate(world.anons[:pool])
        ],
    }
    hits: dict[str, Any] = {}
    for name, events in scenarios.items():
        for event in events:  # warm: every key of these requests is now cached or in memory
            handler(event, context)
        recorder.take()
        _settle()
        cycle = iter(events * (repeat // len(events) + 1))
        samples = _timed(lambda cycle=cycle: handler(next(cycle), context), repeat)  # type: ignore[misc]
        hits[name] = {**_summary(samples), **recorder.take()}
        _log(f"  hit {name}: p50 {hits[name]['p50Ms']} ms, p95 {hits[name]['p95Ms']} ms")

    # The homepage's hits again, with 20 active rules read by the same container.
    _publish_rules(stack, world)
    function.module.service._rules.expire()
    events = scenarios["homepageKnownUser"]
    for event in events:
        handler(event, context)
    recorder.take()
    _settle()
    cycle = iter(events * (repeat // len(events) + 1))
    samples = _timed(lambda: handler(next(cycle), context), repeat)
    hits["homepageKnownUser20Rules"] = {**_summary(samples), **recorder.take()}
    ruled = hits["homepageKnownUser20Rules"]
    _log(f"  hit homepageKnownUser20Rules: p50 {ruled['p50Ms']} ms, p95 {ruled['p95Ms']} ms")
    _remove_rules(stack)
    function.module.service._rules.expire()

    # Per-user misses: users never asked for before (their four keys miss; shared lists are warm).
    fresh = iter(_event(userId=u) for u in world.users[pool:])
    _settle()
    misses = _timed(lambda: handler(next(fresh), context), len(world.users) - pool)
    miss = {**_summary(misses), **recorder.take()}
    _log(f"  per-user miss: p50 {miss['p50Ms']} ms, p95 {miss['p95Ms']} ms")

    # Cold path: memory and cache empty before every request (a new container and a flushed cache).
    import redis

    assert stack.redis is not None
    flush = redis.Redis.from_url(stack.redis.url)
    repository = function.module.service._repo
    cold_samples = []
    _settle()
    for user in world.users[: max(50, repeat // 25)]:
        flush.flushall()
        repository._memory.clear()
        repository._control = None
        event = _event(userId=user)
        started = time.perf_counter()
        handler(event, context)
        cold_samples.append(time.perf_counter() - started)
    cold = {**_summary(cold_samples), **recorder.take()}
    _log(f"  cold path: p50 {cold['p50Ms']} ms, p95 {cold['p95Ms']} ms")
    return {"cacheHit": hits, "perUserCacheMissFromDynamoDB": miss, "coldPathMemoryAndCacheEmpty": cold}


#: The rules of the "20 active rules" figure, by kind (every one acting on the homepage).
RULES_MIX = {"pin": 4, "block": 6, "boost": 6, "boost-category": 2, "bury-category": 2}


def _publish_rules(stack: LocalStack, world: _World) -> None:
    """20 active rules, as the admin function writes them: pins of 4 products at positions 1-4,
    blocks and boosts of products the users' lists hold, boosts and buries of 4 categories."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    window = {"startsAt": now - timedelta(hours=1), "endsAt": now + timedelta(days=1)}
    products = iter(world.products)
    categories = iter(sorted(set(world.category.values())))
    bodies: list[RuleBody] = []
    for kind, count in RULES_MIX.items():
        for position in range(1, count + 1):
            fields: dict[str, Any] = {"kind": kind.split("-")[0], **window}
            if kind == "pin":
                fields |= {"productId": next(products), "position": position}
            elif kind in ("block", "boost"):
                fields |= {"productId": next(products)}
            else:
                fields |= {"category": next(categories)}
            bodies.append(RuleBody.model_validate(fields))
    rules = [Rule.of(f"bench-{n:02d}", body, "bench", now) for n, body in enumerate(bodies)]
    change = RuleChange(
        ruleId=rules[-1].id, action="put", who="bench", at=now, before=None, after=rules[-1], revision=1
    )
    store = DynamoRuleStore(stack.physical["StateTable"], stack.client("dynamodb"))
    if not store.write(rules, 0, change):
        raise RuntimeError("the rules row already exists")


def _remove_rules(stack: LocalStack) -> None:
    from recs.store_layout import RULES_KEY

    DynamoTable(stack.physical["StateTable"], stack.client("dynamodb")).delete_many([RULES_KEY])


def _over_http(stack: LocalStack, world: _World, repeat: int) -> dict[str, Any]:
    server = LocalApiServer(stack, port=0).start()  # TCP_NODELAY: see tools/recs_tools/local/http.py
    try:
        host, port = server.url.removeprefix("http://").split(":")
        paths = [f"{ROUTE}?userId={u}" for u in world.users[: max(50, len(world.users) // 10)]]
        cycle = iter(paths * (2 * repeat // len(paths) + 2))

        def ask(connection: http.client.HTTPConnection) -> None:
            connection.request("GET", next(cycle))
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

        keep_alive = http.client.HTTPConnection(host, int(port), timeout=10)
        for _ in paths:
            ask(keep_alive)
        _settle()
        reused = _summary(_timed(lambda: ask(keep_alive), repeat))
        keep_alive.close()

        def fresh() -> None:
            connection = http.client.HTTPConnection(host, int(port), timeout=10)
            ask(connection)
            connection.close()

        _settle()
        new_connections = _summary(_timed(fresh, max(200, repeat // 5)))
    finally:
        server.stop()
    for label, measured in (("keep-alive", reused), ("new connection each", new_connections)):
        _log(f"  HTTP hit ({label}): p50 {measured['p50Ms']} ms, p95 {measured['p95Ms']} ms")
    return {"homepageKnownUserKeepAlive": reused, "homepageKnownUserNewConnectionEach": new_connections}


_PROBE = """
import sys, time
started = time.perf_counter()
{statement}
elapsed = time.perf_counter() - started
heavy = [m for m in {heavy!r} if m in sys.modules]
print(elapsed, ",".join(heavy))
"""


# The third-party imports the handler cannot do without (the API design needs Powertools with
# validation and pydantic, DynamoDB needs botocore, the cache needs redis): the floor of its import.
_API_LIBRARIES = (
    "import pydantic_settings; "
    "from aws_lambda_powertools import Logger, Metrics; "
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver; "
    "from aws_lambda_powertools.event_handler.openapi.params import Query"
)
_LIBRARIES = f"import boto3, redis; {_API_LIBRARIES}"
#: The same floor taken apart, to show which part alone already exceeds the goal.
_FLOOR_PARTS = {
    "librariesWithoutAwsSdk": f"import redis; {_API_LIBRARIES}",
    "apiLibrariesOnly": _API_LIBRARIES,
}


#: What `make build` (sam build) wrote: the deployed artifact, measured on Lambda's Python.
SAM_BUILD = REPO_ROOT / ".aws-sam" / "build"
#: boto3/botocore as the Lambda python3.12 runtime provides them (precompiled), outside the layers.
LAMBDA_RUNTIME_PACKAGES = REPO_ROOT / "build" / "lambda-runtime-py312"

#: What the Lambda runtime sets and a local shell does not: without credentials in the
#: environment botocore would probe the instance metadata service while building a client.
LAMBDA_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_SESSION_TOKEN": "benchmark",
    "AWS_LAMBDA_FUNCTION_NAME": "recommend",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
}


def _deployed_artifact(scratch: Path) -> tuple[str, Path, Path, Path] | str:
    """(python3.12, function dir, common layer dir, the same layer without bytecode), or why not.

    The layer without bytecode is what the former `BuildMethod: python3.12` shipped: Lambda's
    /opt is read-only, so such a layer is compiled from source on every cold start.
    """
    from layer_build.packaging import find_python312

    python = find_python312()
    function, layer = SAM_BUILD / "RecommendFunction", SAM_BUILD / "CommonLayer" / "python"
    if python is None:
        return "no Python 3.12 on this machine"
    if not (function / "app.py").is_file() or not layer.is_dir():
        return "no .aws-sam/build: run `make build` first"
    if not any(layer.glob("__pycache__/*.cpython-312.pyc")) and not any(layer.glob("*/__pycache__")):
        return "the built layer has no bytecode: rebuild with `make build`"
    if not (LAMBDA_RUNTIME_PACKAGES / "boto3").is_dir():
        # The runtime's boto3 at this project's pinned version, compiled by pip as the runtime's is.
        installed = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(LAMBDA_RUNTIME_PACKAGES),
                f"boto3=={importlib.metadata.version('boto3')}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if installed.returncode != 0:
            return f"could not install the runtime's boto3 for Python 3.12: {installed.stderr[-300:]}"
    source_only = scratch / "CommonLayerSourceOnly"
    shutil.copytree(layer, source_only, ignore=shutil.ignore_patterns("__pycache__"))
    return python, function, layer, source_only


def _cold_import(stack: LocalStack, runs: int) -> dict[str, Any]:
    function = stack.function("RecommendFunction")
    base = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AWS_", "POWERTOOLS_", "PYTHONDONTWRITEBYTECODE"))
        },
        **function.environment,
        **LAMBDA_ENVIRONMENT,
        # Nothing listens there: the import must not connect anywhere.
        "CACHE_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    import_app = _PROBE.format(statement="import app", heavy=HEAVY)
    local = (sys.executable, function.code_dir)
    tracing_off = {**base, "POWERTOOLS_TRACE_DISABLED": "true"}
    # name -> (python, working directory, environment, probe)
    variants: dict[str, tuple[str, Path, dict[str, str], str]] = {
        "tracingOff": (*local, tracing_off, import_app),
        "tracingOnAsDeployed": (
            *local,
            {**base, "POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": str(function.code_dir)},
            import_app,
        ),
        "librariesOnly": (*local, tracing_off, _PROBE.format(statement=_LIBRARIES, heavy=HEAVY)),
        **{
            name: (*local, tracing_off, _PROBE.format(statement=statement, heavy=HEAVY))
            for name, statement in _FLOOR_PARTS.items()
        },
    }
    with tempfile.TemporaryDirectory(prefix="recs-bench-artifact-") as scratch:
        deployed = _deployed_artifact(Path(scratch))
        if isinstance(deployed, tuple):
            python312, code, layer, source_only = deployed
            for name, layer_dir in (
                ("deployedPython312", layer),
                ("deployedPython312NoBytecode", source_only),
            ):
                path = os.pathsep.join(str(p) for p in (code, layer_dir, LAMBDA_RUNTIME_PACKAGES))
                environment = {
                    **base,
                    "PYTHONPATH": path,
                    "LAMBDA_TASK_ROOT": str(code),
                    "POWERTOOLS_TRACE_DISABLED": "false",
                    # /var/task and /opt are read-only in Lambda: nothing compiled is kept.
                    "PYTHONDONTWRITEBYTECODE": "1",
                }
                variants[name] = (python312, code, environment, import_app)
        samples = _run_probes(variants, runs)
    result: dict[str, Any] = {}
    for name, (python, _, _, _) in variants.items():
        result[name] = {
            "runs": runs,
            "python": subprocess.run(
                [python, "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip(),
            "medianMs": round(statistics.median(samples[name][0]) * 1000, 1),
            "minMs": round(min(samples[name][0]) * 1000, 1),
            "heavyModulesImported": sorted(samples[name][1]),
        }
        _log(f"  cold import ({name}): median {result[name]['medianMs']} ms")
    if isinstance(deployed, str):
        result["deployedArtifactNotMeasured"] = deployed
        _log(f"  cold import of the deployed artifact not measured: {deployed}")
    result["largestImportsTracingOff"] = _importtime(function.code_dir, tracing_off)
    return result


def _run_probes(
    variants: dict[str, tuple[str, Path, dict[str, str], str]], runs: int
) -> dict[str, tuple[list[float], set[str]]]:
    samples: dict[str, tuple[list[float], set[str]]] = {name: ([], set()) for name in variants}
    # Variants take turns in every round, so a neighbour's load hits all of them alike.
    for run in range(runs + 1):  # the first round writes the bytecode caches and is discarded
        _settle()
        for name, (python, cwd, environment, probe) in variants.items():
            out = subprocess.run(
                [python, "-c", probe], cwd=cwd, env=environment, capture_output=True, text=True, check=True
            ).stdout.split()
            if run:
                samples[name][0].append(float(out[0]))
                samples[name][1].update(filter(None, out[1:]))
    return samples


def _importtime(code_dir: Path, environment: dict[str, str]) -> list[dict[str, Any]]:
    """The handler's direct imports costing most (cumulative, from -X importtime), and its own body."""
    stderr = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    rows: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        self_us, cumulative_us, raw_name = int(parts[0]), int(parts[1]), parts[2]
        name, depth = raw_name.strip(), (len(raw_name) - len(raw_name.lstrip()) - 1) // 2
        if name == "app":
            rows.append(("app (its own body: settings, clients, routes)", self_us / 1000))
        elif depth == 1:
            rows.append((name, cumulative_us / 1000))
    rows.sort(key=lambda row: -row[1])
    return [{"module": module, "cumulativeMs": round(ms, 1)} for module, ms in rows[:12]]


# ---------------------------------------------------------------------------------- the run
def run(quick: bool) -> dict[str, Any]:
    """Measure serving latency and cold import; percentiles with the floor measured alongside.

    Parameters
    ----------
    quick
        1,000 products, 500 users and 1,000 requests per figure (5 cold imports) instead of
        5,000, 2,000 and 5,000 (15 cold imports).

    Returns
    -------
    dict
        ``floor`` (raw Redis and DynamoDB), ``inProcess`` (cache hits per context, per-user miss,
        cold path), ``http``, ``coldImport`` and ``figures`` with the goals and whether they are met.
    """
    global _quiet
    products, users, repeat, imports = (1_000, 500, 1_000, 5) if quick else (5_000, 2_000, 5_000, 15)
    _quiet = QuietWaiter(threshold=20.0, per_wait=15.0, budget=60.0 if quick else 240.0)
    _busy.clear()
    _log(f"serving benchmark: {products} products, {users} users, {repeat} requests per figure")
    world = _World(products, users)
    pseudonyms = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
    with quiet_stdout(), LocalStack() as stack:
        if stack.redis is None:
            raise RuntimeError("redis-server is required for the serving benchmark")
        started = time.perf_counter()
        models = DynamoTable(stack.physical["ModelTable"], stack.client("dynamodb"))
        models.put_many(world.rows(pseudonyms))
        models.put(
            {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": VERSION, "generatedAt": GENERATED}
        )
        DynamoTable(stack.physical["StateTable"], stack.client("dynamodb")).put_many(
            world.sessions(pseudonyms)
        )
        _log(f"  published in {time.perf_counter() - started:.1f} s")
        floor = _floor(stack, world, repeat)
        redis_p50, dynamodb_p50 = floor["redisGet"]["p50Ms"], floor["dynamodbGetItemMoto"]["p50Ms"]
        _log(f"  floor: Redis GET p50 {redis_p50} ms, DynamoDB GetItem (moto) p50 {dynamodb_p50} ms")
        in_process = _in_process(stack, world, repeat)
        over_http = _over_http(stack, world, repeat)
        cold = _cold_import(stack, imports)
    return {
        "command": COMMAND,
        "seeds": {"world": SEED},
        "figures": _figures(floor, in_process, over_http, cold),
        "notes": _notes(cold),
        "settings": {
            "logLevel": "INFO (log line and EMF document written to /dev/null)",
            "callerAuthorization": "off (template default: AuthIssuerUrl empty)",
        },
        "workload": {
            "products": products,
            "users": users,
            "requestsPerFigure": repeat,
            "coldImports": imports,
        },
        "cpuBusyPercentBeforeEachFigure": list(_busy),
        "secondsWaitedForAQuietMachine": round(_quiet.waited, 1),
        "floor": floor,
        "inProcess": in_process,
        "http": over_http,
        "coldImport": cold,
    }


def _notes(cold: dict[str, Any]) -> list[str]:
    largest = ", ".join(
        f"{row['module']} {row['cumulativeMs']} ms" for row in cold["largestImportsTracingOff"][:6]
    )
    notes = [
        "Cold import: the third-party libraries the handler cannot do without (Powertools with"
        " validation and pydantic by the API design, botocore for DynamoDB, redis for the cache)"
        f" take {cold['librariesOnly']['medianMs']} ms to import on their own, measured alike in this"
        f" run: more than the {GOALS_MS['coldImportMedian']:g} ms goal before any code of ours runs."
        " Deferring one of them would only move its cost into the container's first request, which"
        " needs them all; the deployment answer is Lambda SnapStart for Python or provisioned"
        " concurrency. Taken apart in the same run: without boto3"
        f" {cold['librariesWithoutAwsSdk']['medianMs']} ms, and Powertools with the event handler,"
        f" its OpenAPI parameters and pydantic-settings alone {cold['apiLibrariesOnly']['medianMs']} ms.",
        f"Largest direct imports (`python -X importtime`, cumulative): {largest}.",
        "Where a cache hit's time goes: section Profiles (own time by package).",
    ]
    if "deployedPython312" in cold:
        deployed, source_only = cold["deployedPython312"], cold["deployedPython312NoBytecode"]
        notes.insert(
            1,
            "Deployed artifact: the recommend function and common layer as `make build` writes them,"
            f" imported by Python {deployed['python']} with nothing writable (Lambda's /var/task and"
            f" /opt are read-only): {deployed['medianMs']} ms with the layer's bytecode, against"
            f" {source_only['medianMs']} ms for the same layer without it, where every module is"
            " compiled from source on each cold start (the layer as the runtime builder made it"
            " before the layer's Makefile). The runtime's boto3/botocore are importable precompiled,"
            " as the Lambda runtime ships them.",
        )
    else:
        notes.append(f"The deployed artifact was not measured: {cold['deployedArtifactNotMeasured']}.")
    return notes


def _figures(
    floor: dict[str, Any], in_process: dict[str, Any], over_http: dict[str, Any], cold: dict[str, Any]
) -> list[Figure]:
    area = "Serving"
    mget = floor["redisMget4"]["p95Ms"]
    get_item = floor["dynamodbGetItemMoto"]["p95Ms"]
    hit_goal = GOALS_MS["cacheHitP95InProcess"]
    rows = [
        figure(
            area,
            "floor: Redis GET of one list (redis-py), p95",
            floor["redisGet"]["p95Ms"],
            "ms",
            note=f"p50 {floor['redisGet']['p50Ms']} ms",
        ),
        figure(
            area,
            "floor: Redis MGET of 4 keys, p95",
            mget,
            "ms",
            note=f"p50 {floor['redisMget4']['p50Ms']} ms",
        ),
        figure(
            area,
            "floor: DynamoDB GetItem (boto3 -> moto, in-process), p95",
            get_item,
            "ms",
            note=f"p50 {floor['dynamodbGetItemMoto']['p50Ms']} ms; moto, not AWS",
        ),
    ]
    labels = {
        "homepageKnownUser": "cache hit, homepage, known user with a session",
        "homepageAnonymousWithSession": "cache hit, homepage, anonymous with a session",
        "productPageKnownUser": "cache hit, product page, known user",
        "cartAnonymous": "cache hit, cart of 3, anonymous",
    }
    for key, label in labels.items():
        hit = in_process["cacheHit"][key]
        rows.append(
            figure(
                area,
                f"{label} (in-process handler), p95",
                hit["p95Ms"],
                "ms",
                baseline="Redis MGET p95",
                baseline_value=mget,
                goal=f"p95 < {hit_goal:g} ms",
                met=hit["p95Ms"] < hit_goal,
                note=f"p50 {hit['p50Ms']} ms; round trips {hit['cacheRoundTrips']}",
            )
        )
    ruled = in_process["cacheHit"]["homepageKnownUser20Rules"]
    rows.append(
        figure(
            area,
            "cache hit, homepage, known user, 20 active rules (in-process handler), p95",
            ruled["p95Ms"],
            "ms",
            baseline="the same hit without rules, p95",
            baseline_value=in_process["cacheHit"]["homepageKnownUser"]["p95Ms"],
            goal=f"p95 < {hit_goal:g} ms",
            met=ruled["p95Ms"] < hit_goal,
            note=f"p50 {ruled['p50Ms']} ms; round trips {ruled['cacheRoundTrips']}; "
            + ", ".join(f"{n} {k}" for k, n in RULES_MIX.items()),
        )
    )
    miss = in_process["perUserCacheMissFromDynamoDB"]
    rows.append(
        figure(
            area,
            "per-user cache miss, served from DynamoDB (moto), p95",
            miss["p95Ms"],
            "ms",
            baseline="DynamoDB GetItem p95",
            baseline_value=get_item,
            note=f"p50 {miss['p50Ms']} ms",
        )
    )
    cold_path = in_process["coldPathMemoryAndCacheEmpty"]
    rows.append(
        figure(
            area,
            "cold path: container memory and cache empty, p95",
            cold_path["p95Ms"],
            "ms",
            baseline="DynamoDB GetItem p95",
            baseline_value=get_item,
            note=f"p50 {cold_path['p50Ms']} ms",
        )
    )
    in_process_hit = in_process["cacheHit"]["homepageKnownUser"]["p95Ms"]
    http_goal = GOALS_MS["httpP95"]
    for key, label, goal in (
        ("homepageKnownUserKeepAlive", "cache hit over local HTTP, keep-alive, p95", True),
        (
            "homepageKnownUserNewConnectionEach",
            "cache hit over local HTTP, a new connection each, p95",
            False,
        ),
    ):
        http = over_http[key]
        rows.append(
            figure(
                area,
                label,
                http["p95Ms"],
                "ms",
                baseline="the same hit in-process, p95",
                baseline_value=in_process_hit,
                goal=f"p95 < {http_goal:g} ms" if goal else None,
                met=http["p95Ms"] < http_goal if goal else None,
                note=f"p50 {http['p50Ms']} ms",
            )
        )
    import_goal = GOALS_MS["coldImportMedian"]
    floor_import = cold["librariesOnly"]["medianMs"]
    rows.append(
        figure(
            area,
            "cold import of the recommend handler, tracing off (local), median",
            cold["tracingOff"]["medianMs"],
            "ms",
            baseline="its unavoidable libraries alone (boto3, redis, Powertools, pydantic)",
            baseline_value=floor_import,
            goal=f"< {import_goal:g} ms",
            met=cold["tracingOff"]["medianMs"] < import_goal,
            digits=1,
        )
    )
    rows.append(
        figure(
            area,
            "cold import, tracing on (X-Ray, as deployed), median",
            cold["tracingOnAsDeployed"]["medianMs"],
            "ms",
            baseline="libraries alone",
            baseline_value=floor_import,
            digits=1,
        )
    )
    if "deployedPython312" in cold:
        deployed, source_only = cold["deployedPython312"], cold["deployedPython312NoBytecode"]
        rows.append(
            figure(
                area,
                "cold import of the deployed artifact (make build) on Python 3.12, tracing on, median",
                deployed["medianMs"],
                "ms",
                baseline="the same layer without bytecode (what sam build shipped before)",
                baseline_value=source_only["medianMs"],
                goal=f"< {import_goal:g} ms",
                met=deployed["medianMs"] < import_goal,
                note=f"Python {deployed['python']}, read-only code directories as in Lambda",
                digits=1,
            )
        )
    heavy = sorted(
        set(cold["tracingOff"]["heavyModulesImported"])
        | set(cold["tracingOnAsDeployed"]["heavyModulesImported"])
    )
    rows.append(
        figure(
            area,
            "numpy/scipy/pandas/pyarrow modules imported by the handler",
            len(heavy),
            "modules",
            goal="0",
            met=not heavy,
            note=", ".join(heavy) or None,
            digits=0,
        )
    )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(
        __doc__, lambda quick: run(quick=quick), argv, quick_help="a smaller world and fewer requests"
    )


if __name__ == "__main__":
    raise SystemExit(main())
