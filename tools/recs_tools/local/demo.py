"""`make demo`: the whole product on the local stack, driven by the synthetic shop.

Starts the stack from template.yaml, serves the API on 127.0.0.1:3000, posts the synthetic
shop's events through the ingest API, records the opt-outs through the privacy API, runs the
training state machine, pins a product on the homepage through the admin routes (a
merchandising rule, signed as the local operator), and prints curl commands with real ids from
the demo.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recs.store_layout import CATALOG_OBJECT_KEY
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import HttpResult, http_call
from recs_tools.local.stack import REGION, LocalStack
from recs_tools.local.storefront import STOREFRONT_PREFIX, storefront_mounts, write_shop_data
from recs_tools.synthetic import SyntheticShop, build_config, generate_shop, iter_batches


@dataclass
class DemoReport:
    shop: SyntheticShop
    events_posted: int
    events_accepted: int
    events_rejected: int
    opted_out: int
    execution: dict[str, Any]
    seconds: dict[str, float]
    #: The product the demo's rule pins on the homepage (None when training failed).
    pinned: str | None = None


#: The demo's merchandising rule: a product pinned second on every homepage list.
DEMO_RULE_ID = "demo-pin"
DEMO_PIN_POSITION = 2


def pin_a_product(base_url: str, shop: SyntheticShop, now: datetime) -> str:
    """Pin the shop's least prominent available product second on the homepage for 30 days,
    through the signed admin route, as an operator would with `recs rules add`."""
    from recs_tools.local.auth import local_admin_credentials
    from recs_tools.rules_client import RulesClient

    product = [p for p in shop.products if p.available][-1].id
    rules = RulesClient(base_url, REGION, local_admin_credentials())
    result = rules.put(
        DEMO_RULE_ID,
        {
            "kind": "pin",
            "productId": product,
            "position": DEMO_PIN_POSITION,
            "contexts": ["homepage"],
            "startsAt": (now - timedelta(minutes=5)).isoformat(),
            "endsAt": (now + timedelta(days=30)).isoformat(),
            "note": "the demo's pinned product (docs/serving.md, Rules)",
        },
    )
    if result.status != 200:
        raise RuntimeError(f"PUT /api/admin/rules/{DEMO_RULE_ID} answered {result.status}: {result.body}")
    return product


def post_events(base_url: str, shop: SyntheticShop, *, threads: int = 2) -> tuple[int, int, int]:
    """POST every event in batches of 500; returns (posted, accepted, rejected)."""
    batches = list(iter_batches(shop.events, size=500))

    def send(batch: list[Any]) -> HttpResult:
        result = http_call(base_url, "POST", "/api/events", {"events": batch})
        if result.status not in (202, 207):
            raise RuntimeError(f"ingest answered {result.status}: {result.body}")
        return result

    from recs_tools.progress import bar

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(bar(pool.map(send, batches), "POST /api/events", total=len(batches), unit="batch"))
    accepted = sum(int(r.body["accepted"]) for r in results)
    rejected = sum(int(r.body["rejectedCount"]) for r in results)
    return sum(len(b) for b in batches), accepted, rejected


def run_demo(
    stack: LocalStack,
    base_url: str,
    *,
    preset: str = "demo",
    seed: int = 42,
    log: Callable[[str], None] = print,
    pii_fraction: float = 0.0,
) -> DemoReport:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    # pii_fraction > 0: some events carry e-mail, phone, name, address and IP (recs_tools.synthetic).
    shop = generate_shop(build_config(preset, seed=seed, now=now, pii_fraction=pii_fraction))
    timings["generate"] = time.perf_counter() - started
    log(
        f"synthetic shop '{preset}' (seed {seed}): {len(shop.products)} products, {len(shop.users)} users, "
        f"{len(shop.anonymous_ids)} anonymous ids, {len(shop.events)} events"
    )

    mark = time.perf_counter()
    posted, accepted, rejected = post_events(base_url, shop)
    timings["ingest"] = time.perf_counter() - mark
    log(
        f"POST /api/events: {posted} events sent, {accepted} accepted, {rejected} rejected "
        f"({timings['ingest']:.1f} s)"
    )

    mark = time.perf_counter()
    for user in shop.opted_out_user_ids:
        result = http_call(
            base_url, "PUT", f"/api/users/{user}/preferences", {"preferences": {"recommendations": False}}
        )
        if result.status != 200:
            raise RuntimeError(f"opt-out of {user} answered {result.status}: {result.body}")
    timings["opt_outs"] = time.perf_counter() - mark
    log(f"PUT /api/users/<id>/preferences: {len(shop.opted_out_user_ids)} users opted out")

    # The shop's catalog export, which tells training what may be recommended (recs.training.prepare.catalog).
    catalog = "\n".join(json.dumps(product) for product in shop.catalog()).encode()
    bucket = stack.physical["ArtifactBucket"]
    stack.upload("ArtifactBucket", CATALOG_OBJECT_KEY, catalog)
    log(f"catalog export: {len(shop.products)} products uploaded to s3://{bucket}/{CATALOG_OBJECT_KEY}")

    mark = time.perf_counter()
    execution = stack.run_training()
    timings["training"] = time.perf_counter() - mark
    log(f"training state machine: {execution['status']} ({timings['training']:.1f} s)")
    pinned = None
    if execution["status"] != "SUCCEEDED":
        log(json.dumps(execution.get("error"), default=str) + " " + str(execution.get("cause")))
    else:
        log(evaluation_summary(execution))
        pinned = pin_a_product(base_url, shop, now)
        log(
            f"PUT /api/admin/rules/{DEMO_RULE_ID} (IAM-signed): {pinned} pinned at position "
            f"{DEMO_PIN_POSITION} of the homepage, reason `rule`"
        )
    timings["total"] = time.perf_counter() - started
    return DemoReport(
        shop, posted, accepted, rejected, len(shop.opted_out_user_ids), execution, timings, pinned
    )


def evaluation_summary(execution: dict[str, Any]) -> str:
    """One line on the published version's holdout quality, from the execution's output."""
    output = json.loads(execution.get("output") or "{}")
    evaluation = output.get("evaluation") or {}
    model, popularity = evaluation.get("model") or {}, evaluation.get("popularity") or {}
    if "ndcg" not in model or "ndcg" not in popularity:
        return f"published {output.get('modelVersion', 'a new version')}"
    return (
        f"published {output.get('modelVersion')}: holdout NDCG@10 {model['ndcg']:.3f} "
        f"vs popularity {popularity['ndcg']:.3f} over {evaluation.get('evaluatedUsers')} users"
    )


def example_commands(base_url: str, shop: SyntheticShop) -> list[str]:
    opted_out = set(shop.opted_out_user_ids)
    user = next(u for u in shop.users if u not in opted_out)
    # The live session signal only keeps the last days: show a visitor who browsed most recently.
    anon = next(
        (e["anonId"] for e in reversed(shop.events) if e.get("anonId") and not e.get("userId")),
        shop.anonymous_ids[0],
    )
    available = [p for p in shop.products if p.available]
    product = available[0].id
    cart = ",".join(p.id for p in available[1:3])
    return [
        f"curl '{base_url}/api/recommendations?userId={user}'",
        f"curl '{base_url}/api/recommendations?anonId={anon}&limit=5'",
        f"curl '{base_url}/api/recommendations?userId={user}&context=product-page&productId={product}"
        "&limit=5'",
        f"curl '{base_url}/api/recommendations?userId={user}&context=cart&cartProductIds={cart}&limit=5'",
        f"curl '{base_url}/api/recommendations?userId={next(iter(opted_out), user)}'   # opted out: popular",
        f"curl '{base_url}/api/recommendations?userId={user}&limit=abc'   # 400 naming the field",
        f"curl -X PUT '{base_url}/api/users/{user}/preferences' -H 'content-type: application/json' "
        '-d \'{"preferences": {"recommendations": false}}\'',
        f"curl '{base_url}/api/users/{user}/privacy'",
        f"curl -X POST '{base_url}/api/users/{user}/erasure'   # 202 with a receiptId",
        f"curl '{base_url}/api/erasures/<receiptId>'   # completed after the next training run",
        f"recs rules --local --url {base_url} list   # the demo's pinned product: a merchandising rule",
        f"recs rules --local --url {base_url} changes   # who changed which rule when",
    ]


def main(
    port: int = 3000, preset: str = "demo", seed: int = 42, serve: bool = True, log_level: str = "INFO"
) -> int:
    # Imported here: the reports' plotting library is only needed by the demo, not by its helpers.
    from recs_tools.local.demo_traffic import (
        DEMO_EXPERIMENTS,
        DEMO_REFERENCE,
        http_caller,
        simulate_shoppers,
    )
    from recs_tools.local.reports import REPORTS_PREFIX, demo_reports_dir, write_local_reports
    from recs_tools.reports.generate import ReportOptions

    print("starting the local stack from template.yaml (moto; no AWS account, no Docker)...")
    overrides = {"LogLevel": log_level, "RecommendExperiments": DEMO_EXPERIMENTS}
    with (
        LocalStack(parameter_overrides=overrides) as stack,
        tempfile.TemporaryDirectory(prefix="recs-shop-") as shop_data,
    ):
        print(stack.cache_note)
        reports = demo_reports_dir(stack)
        static = {**storefront_mounts(Path(shop_data)), REPORTS_PREFIX: reports}
        server = LocalApiServer(stack, port=port, static=static).start()
        print(f"API listening on {server.url}")
        report = run_demo(stack, server.url, preset=preset, seed=seed)
        write_shop_data(Path(shop_data), report.shop)
        if report.execution["status"] != "SUCCEEDED":
            server.stop()
            return 1
        print(f"\ndemo ready in {report.seconds['total']:.1f} s. Try:\n")
        for command in example_commands(server.url, report.shop):
            print("  " + command)
        print(f"\nstorefront demo (docs/frontend.md): {server.url}{STOREFRONT_PREFIX}")
        # Shoppers on the homepage experiment, so its report has something to show.
        traffic = simulate_shoppers(http_caller(server.url), report.shop, seed=seed)
        options = ReportOptions(reference_variant=DEMO_REFERENCE)
        write_local_reports(stack, reports, options, served=traffic.served_ids)
        print(f"model and experiment reports (docs/reports.md): {server.url}{REPORTS_PREFIX}")
        if not serve:
            server.stop()
            return 0
        print("\nserving until Ctrl-C")
        server.serve_until_interrupted()
    return 0
