"""How many fake visitors it takes to push an unwanted product into the shop-wide lists.

    python -m bench --full --only poisoning    # the demo and the grocery-year shops
    python -m bench --quick --only poisoning   # the demo shop
    python -m bench.poisoning [--quick]        # JSON to stdout

A synthetic shop's events (the product's own generator) get fake visitors who each buy the
shop's least popular available product over and over today, through the training code's own
lists (`recs.training.fit.lists`, the weights `recs.training.build` uses): the fewest distinct
fake visitors that put it in the popular top 10 and in the trending top 10, found by bisection.

* **Before** is the code before this change: trending summed raw event weights, and ingest took
  any number of events per visitor; the attacker is one client sending one full batch (500
  events) per fake visitor.
* **After**: trending counts each visitor at most one purchase's weight per product and day,
  and ingest keeps at most ``VISITOR_EVENTS_PER_HOUR`` (600) events per visitor and hour; the
  attacker sends as many events per visitor as the cap lets through.

Popularity already counted distinct visitors before (a product's visitors, not its events), so
its row is the same before and after. The goal, from the privacy and abuse issue: at least 50
times as many fake visitors after as before. A shopper's own list (the model, not the shop-wide
lists) is not measured here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from bench.environment import benchmark_main, log
from bench.figures import Figure, figure
from recs.training.fit import lists
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import confidence_matrix
from recs.training.prepare.weights import interaction_weights
from recs_tools.synthetic import build_config, generate_shop

COMMAND = "python -m bench --only poisoning"
SEED = 23
TOP = 10
BATCH_EVENTS = 500  # one POST /api/events
VISITOR_CAP = 600  # VISITOR_EVENTS_PER_HOUR's default
PARAMS = TrainingParameters()
MAX_VISITORS = 1 << 16


def _fakes(count: int, events: int, product: str, now_iso: str) -> list[dict[str, Any]]:
    return [
        {
            "eventId": f"fake-{visitor}-{n}",
            "eventType": "purchase",
            "timestamp": now_iso,
            "anonId": f"fake-{visitor}",
            "productId": product,
        }
        for visitor in range(count)
        for n in range(events)
    ]


def _rank(scores: np.ndarray[Any, Any], item: int) -> int:
    """0-based position of ``item`` in descending ``scores`` (ties: lower index first)."""
    order = np.lexsort((np.arange(scores.size), -scores))
    return int(np.flatnonzero(order == item)[0])


def _lists(inter: Interactions, end_ts: float, capped: bool) -> dict[str, np.ndarray[Any, Any]]:
    """Popularity and trending scores as `recs.training.build.train_version` computes them."""
    confidence = confidence_matrix(
        inter, PARAMS.event_weights, now_ts=end_ts, half_life_days=PARAMS.half_life_days
    )
    weights = interaction_weights(inter, PARAMS.event_weights, now_ts=end_ts, half_life_days=0.0)
    cap = lists.visitor_day_cap(PARAMS.event_weights) if capped else None
    return {
        "popular": lists.popularity(confidence),
        "trending": lists.trending(inter, weights, end_ts, PARAMS.trending_days, visitor_day_cap=cap),
    }


def fewest(
    base: Sequence[Mapping[str, Any]], product: str, end_ts: float, now_iso: str, events: int, capped: bool
) -> dict[str, int]:
    """Per list, the fewest fake visitors (``events`` purchases each) that put ``product`` in
    its top 10."""

    def in_top(kind: str) -> Callable[[int], bool]:
        def check(visitors: int) -> bool:
            inter = build_interactions(
                [*base, *_fakes(visitors, events, product, now_iso)],
                start_ts=end_ts - 400 * 86_400,
                end_ts=end_ts,
            )
            item = inter.items.index(product)
            return _rank(_lists(inter, end_ts, capped)[kind], item) < TOP

        return check

    found: dict[str, int] = {}
    for kind in ("popular", "trending"):
        check = in_top(kind)
        high = 1
        while not check(high):
            high *= 2
            if high > MAX_VISITORS:
                raise RuntimeError(f"more than {MAX_VISITORS} fake visitors for {kind}")
        low = high // 2
        while high - low > 1:
            middle = (low + high) // 2
            if check(middle):
                high = middle
            else:
                low = middle
        found[kind] = high
    return found


def measure(preset: str) -> dict[str, Any]:
    shop = generate_shop(build_config(preset, seed=SEED))
    now = shop.config.now
    end_ts = now.timestamp()
    base = list(shop.events)
    inter = build_interactions(base, start_ts=end_ts - 400 * 86_400, end_ts=end_ts)
    available = {p.id for p in shop.products if p.available}
    counts = _lists(inter, end_ts, capped=False)["popular"]
    candidates = [i for i in np.argsort(counts, kind="stable") if inter.items[i] in available]
    product = inter.items[int(candidates[0])]
    stamp = (now - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    before = fewest(base, product, end_ts + 1, stamp, BATCH_EVENTS, capped=False)
    after = fewest(base, product, end_ts + 1, stamp, VISITOR_CAP, capped=True)
    log(f"  {preset}: fake visitors for {product} before {before}, after {after}")
    return {
        "product": product,
        "productVisitors": int(counts[candidates[0]]),
        "before": before,
        "after": after,
    }


def run(quick: bool) -> dict[str, Any]:
    shops = ["demo"] if quick else ["demo", "grocery-year"]
    results = {preset: measure(preset) for preset in shops}
    figures: list[Figure] = []
    for preset, result in results.items():
        for kind in ("trending", "popular"):
            before, after = result["before"][kind], result["after"][kind]
            figures.append(
                figure(
                    "Poisoning",
                    f"{preset}: fake visitors to push a product into the {kind} top {TOP}",
                    float(after),
                    "visitors",
                    baseline=f"before ({BATCH_EVENTS} events per fake visitor, raw weights)",
                    baseline_value=float(before),
                    goal=">= 50x before",
                    met=after >= 50 * before,
                    note=f"{result['product']}, bought by {result['productVisitors']} visitors before; "
                    f"after: {VISITOR_CAP} events per fake visitor (the ingest cap)",
                    digits=0,
                )
            )
    return {"command": COMMAND, "seeds": {"synthetic": SEED}, "figures": figures, "shops": results}


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help="the demo shop only")


if __name__ == "__main__":
    raise SystemExit(main())
