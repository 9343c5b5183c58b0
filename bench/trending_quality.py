"""Quality of the trending list: does it find the products a shop's own events say are trending?

    python -m bench --full --only trending_quality    # three shop types, 10 + 10 seeds each
    python -m bench --quick --only trending_quality   # the demo shop, 3 + 3 seeds
    python -m bench.trending_quality [--quick]        # JSON to stdout

Data: the product's synthetic shop generator (`recs_tools.synthetic`), which makes a few
mid-popularity products trend during its last days (each browsed product is swapped for a
trending one with a small probability) and names them (``trending_product_ids``): a ground
truth no real data set has. Presets ``demo`` (30 days, trending the last 3), ``grocery-year``
and ``discovery-year`` (a year, trending the last 7). Each shop's events go through the training
code's own lists (`recs.training.fit.lists.trending`, the weights `recs.training.build` uses,
the shop's available products), and the score is recall@10: the share of the shop's trending
products in its trending top 10.

Two methods: **before**, the formula before this change (recent event weight, each visitor
capped at one purchase's weight per product and day, against the longer-run rate with a
constant prior of 5, kept here as `trending_before`), and **after**, the product's
(`lists.trending`: visitor-days against the longer-run rate under a prior worth
``TRENDING_PRIOR_SHARE`` of the shop's typical top product's recent visitors).

Choosing the prior's share: on validation seeds (1-5, 7, 11, 42, 99, 123; never a test seed),
each share of a grid is scored per shop type; the chosen share is the largest (the strongest
defence against fake visitors, bench/poisoning.py) whose mean recall is at least the before
formula's on every shop type. The results record the grid, the choice and whether it is the
shipped ``TRENDING_PRIOR_SHARE`` (a quick run records its choice on its few demo shops but
reports no figure for it).

Test: seeds 23-32 (the benchmarks' shop seed and the nine after it). Each goal row compares
after with before on the same trending products (each product of each test shop one unit, hit
or not) with a 95% paired-bootstrap interval: "met" only when the whole interval is above zero,
"tie" when it straddles zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.environment import benchmark_main, log
from bench.figures import Figure, figure, goal_figure
from recs.training.fit import lists
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.prepare.weights import interaction_weights
from recs_tools.synthetic import build_config, generate_shop

AREA = "Quality: trending"
COMMAND = "python -m bench --only trending_quality"
TOP = 10
PARAMS = TrainingParameters()
PRESETS = ("demo", "grocery-year", "discovery-year")
VALIDATION_SEEDS = (1, 2, 3, 4, 5, 7, 11, 42, 99, 123)
TEST_SEEDS = tuple(range(23, 33))
QUICK_VALIDATION_SEEDS = (1, 2, 3)
QUICK_TEST_SEEDS = (23, 24, 25)
SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
#: The prior of the formula before this change (its ``TRENDING_PRIOR``).
BEFORE_PRIOR = 5.0

Scores = npt.NDArray[np.float64]
Trending = Callable[[Interactions, npt.NDArray[np.float32], float], Scores]


def trending_before(
    interactions: Interactions,
    weights: npt.NDArray[np.float32],
    now_ts: float,
    recent_days: float,
    *,
    visitor_day_cap: float | None,
) -> Scores:
    """Trending as it was before counting visitors: recent event weight against the longer-run
    rate, ``r (r + 1) / (e + 5)``, each visitor's weight on a product and day capped at
    ``visitor_day_cap`` (None: raw weights, the code before the cap)."""
    n = interactions.n_items
    items = interactions.item.astype(np.int64)
    values = weights.astype(np.float64)
    timestamps = interactions.timestamp
    if visitor_day_cap is not None:
        days = np.floor(timestamps / SECONDS_PER_DAY).astype(np.int64)
        first_day = int(days.min())
        span = int(days.max()) - first_day + 1
        keys = (interactions.user.astype(np.int64) * max(n, 1) + items) * span + (days - first_day)
        unique, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.ravel()
        values = np.minimum(np.bincount(inverse, weights=values, minlength=unique.size), visitor_day_cap)
        latest = np.full(unique.size, -np.inf)
        np.maximum.at(latest, inverse, timestamps)
        items, timestamps = (unique // span) % max(n, 1), latest
    recent = timestamps >= now_ts - recent_days * SECONDS_PER_DAY
    recent_w = np.bincount(items[recent], weights=values[recent], minlength=n)
    total_w = np.bincount(items, weights=values, minlength=n)
    span_days = max(recent_days, (now_ts - float(interactions.timestamp.min())) / SECONDS_PER_DAY)
    expected = total_w * (recent_days / span_days)
    return np.asarray(recent_w * (recent_w + 1.0) / (expected + BEFORE_PRIOR), dtype=np.float64)


def before_capped(interactions: Interactions, weights: npt.NDArray[np.float32], now_ts: float) -> Scores:
    """The formula before this change, with the cap training used (one purchase's weight)."""
    cap = max(PARAMS.event_weights.values())
    return trending_before(interactions, weights, now_ts, PARAMS.trending_days, visitor_day_cap=cap)


def after(share: float) -> Trending:
    def scores(interactions: Interactions, weights: npt.NDArray[np.float32], now_ts: float) -> Scores:
        return lists.trending(interactions, weights, now_ts, PARAMS.trending_days, prior_share=share)

    return scores


@dataclass(frozen=True)
class Shop:
    preset: str
    seed: int
    interactions: Interactions
    weights: npt.NDArray[np.float32]
    now_ts: float
    available: npt.NDArray[np.bool_]
    truth: npt.NDArray[np.int64]


def load_shop(preset: str, seed: int) -> Shop:
    """A synthetic shop's events as training reads them, its available products and its trending
    products (indices)."""
    shop = generate_shop(build_config(preset, seed=seed))
    now_ts = shop.config.now.timestamp() + 1
    interactions = build_interactions(list(shop.events), start_ts=now_ts - 400 * 86_400, end_ts=now_ts)
    weights = interaction_weights(interactions, PARAMS.event_weights, now_ts=now_ts, half_life_days=0.0)
    sold = {product.id for product in shop.products if product.available}
    available = np.array([item in sold for item in interactions.items], dtype=np.bool_)
    index = {item: i for i, item in enumerate(interactions.items)}
    truth = np.array(
        [index[p] for p in shop.trending_product_ids if p in index and available[index[p]]], dtype=np.int64
    )
    return Shop(preset, seed, interactions, weights, now_ts, available, truth)


def hits(shop: Shop, method: Trending) -> npt.NDArray[np.float64]:
    """Per trending product of the shop: 1 when it is in the trending top 10, else 0."""
    ranked = lists.top_indices(method(shop.interactions, shop.weights, shop.now_ts), TOP, shop.available)
    shown = {item for item, _ in ranked}
    return np.array([float(item in shown) for item in shop.truth.tolist()])


def choose_share(shops: Sequence[Shop]) -> tuple[float, dict[str, Any]]:
    """The largest share of ``SHARES`` whose mean recall is at least the before formula's on every
    shop type (``shops``: validation seeds only); the record of the grid."""
    presets = sorted({shop.preset for shop in shops})

    def recall(method: Trending) -> dict[str, float]:
        return {
            preset: float(np.concatenate([hits(s, method) for s in shops if s.preset == preset]).mean())
            for preset in presets
        }

    floor = recall(before_capped)
    grid = {f"{share:g}": recall(after(share)) for share in SHARES}
    keeping = [share for share in SHARES if all(grid[f"{share:g}"][p] >= floor[p] for p in presets)]
    chosen = max(keeping, default=0.0)
    record = {
        "seeds": sorted({shop.seed for shop in shops}),
        "rule": "the largest share whose mean recall@10 is at least the before formula's on every shop type",
        "before": {p: round(v, 4) for p, v in floor.items()},
        "grid": {share: {p: round(v, 4) for p, v in by.items()} for share, by in grid.items()},
        "chosen": chosen,
        "shipped": lists.TRENDING_PRIOR_SHARE,
        "chosenIsShipped": chosen == lists.TRENDING_PRIOR_SHARE,
    }
    return chosen, record


def run(quick: bool) -> dict[str, Any]:
    presets = ("demo",) if quick else PRESETS
    validation_seeds = QUICK_VALIDATION_SEEDS if quick else VALIDATION_SEEDS
    test_seeds = QUICK_TEST_SEEDS if quick else TEST_SEEDS
    log(f"  trending: validation shops ({len(presets)} presets x {len(validation_seeds)} seeds)")
    validation = [load_shop(preset, seed) for preset in presets for seed in validation_seeds]
    _, choice = choose_share(validation)
    log(f"  trending: prior share chosen {choice['chosen']} (shipped {choice['shipped']})")
    figures: list[Figure] = []
    shops: dict[str, Any] = {}
    for preset in presets:
        test = [load_shop(preset, seed) for seed in test_seeds]
        ours = np.concatenate([hits(shop, after(lists.TRENDING_PRIOR_SHARE)) for shop in test])
        theirs = np.concatenate([hits(shop, before_capped) for shop in test])
        shops[preset] = {
            "seeds": list(test_seeds),
            "trendingProducts": int(ours.size),
            "recallAt10": {"after": round(float(ours.mean()), 4), "before": round(float(theirs.mean()), 4)},
            "perSeed": {
                str(shop.seed): {
                    "trendingProducts": int(shop.truth.size),
                    "after": float(hits(shop, after(lists.TRENDING_PRIOR_SHARE)).sum()),
                    "before": float(hits(shop, before_capped).sum()),
                }
                for shop in test
            },
        }
        log(f"  trending: {preset} recall@10 after {ours.mean():.3f}, before {theirs.mean():.3f}")
        figures.append(
            goal_figure(
                AREA,
                f"{preset}: recall@10 of the shop's trending products, trending list",
                ours,
                theirs,
                baseline="before (event weights, constant prior 5)",
                seed=23,
                note=f"{ours.size} trending products over {len(test_seeds)} test shops",
            )
        )
    if not quick:  # a quick run's few demo shops cannot choose a default for every shop type
        figures.append(_choice_figure(choice))
    return {
        "command": COMMAND,
        "seeds": {"validation": list(validation_seeds), "test": list(test_seeds), "bootstrap": 23},
        "figures": figures,
        "choice": choice,
        "shops": shops,
    }


def _choice_figure(choice: dict[str, Any]) -> Figure:
    return figure(
        AREA,
        "prior share chosen on validation seeds (the shipped TRENDING_PRIOR_SHARE)",
        float(choice["chosen"]),
        "",
        baseline="shipped",
        baseline_value=float(lists.TRENDING_PRIOR_SHARE),
        goal="= shipped",
        met=bool(choice["chosenIsShipped"]),
        note=choice["rule"],
        digits=2,
    )


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help="the demo shop, 3 + 3 seeds")


if __name__ == "__main__":
    raise SystemExit(main())
