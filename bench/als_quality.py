"""Offline quality on MovieLens 100K: recs ALS and EASE against popularity, EASE and `implicit` ALS.

    python -m bench --full --only als_quality      # (quick runs the same: it takes seconds)
    python -m bench.als_quality [--data FILE]      # JSON to stdout

Protocol (the same for every model, in one run):

* every rating is an implicit interaction (strength 1);
* test = the last 20% of each user's interactions by time (ties: file order);
* validation = the last 20% of each user's remaining training interactions; every model
  picks its hyperparameters by NDCG@10 on validation only, then is refitted on the whole
  training part and scored once on test;
* top-10 per user with already-seen training items filtered; metrics from
  ``recs.evaluation`` (binary relevance, NDCG ideal capped at min(k, |relevant|)); coverage
  is the share of the catalog recommended to anyone;
* each goal is judged on the mean per-user difference in test NDCG with a 95%
  paired-bootstrap interval over the test users (``recs.evaluation.paired_bootstrap``, 2,000
  resamples, seeded): "met" only when the interval lies above zero, "not met" when below, and
  "tie" when it straddles zero (`bench.figures.verdict_of`), whatever the point estimates say.

Models: popularity; recs ALS and recs EASE (``recs.engine``); "recs (chosen on validation)",
the family the product would pick (``MODEL_FAMILY=auto``: the better of the two on
validation); `implicit` 0.7.2's CPU ALS with CG; and an EASE reference written here in a few
lines of dense numpy (Steck 2019, float64), independent of ``recs.engine.ease``.

Both ALS implementations get the same factors, iterations and threads and equivalent grids:
recs uses confidence ``1 + alpha * w`` and implicit ``alpha * w`` (its solver adds the
``- 1``), so recs ``alpha = a`` is the same model as implicit ``alpha = a + 1``.

The data file ships inside the PyPI package ``recbole==1.2.1`` (``make bench-deps`` installs it
with ``--no-deps``); it is read in place, never copied into the repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.environment import emit, log, quiet_known_warnings
from bench.figures import Figure, figure, judged_figure
from recs.engine import EASE, AlternatingLeastSquares, Popularity
from recs.engine.topk import select_topk
from recs.evaluation import (
    Interactions,
    evaluate_topk,
    ndcg_per_user,
    paired_bootstrap,
    per_user_time_split,
    validation_split,
)

K = 10
FACTORS = 64
ITERATIONS = 15
SEED = 0
COMMAND = "python -m bench --only als_quality"
#: (training csr) -> top-K ids of every user, seen items filtered
Recommend = Callable[[Any], np.ndarray]
Fit = Callable[[dict[str, Any], Any], Recommend]

REGULARIZATION = [0.1, 1.0, 3.0, 10.0, 30.0]
OURS_ALPHA = [0.0, 1.0, 3.0, 10.0]
EASE_L2 = [10.0, 50.0, 100.0, 200.0, 500.0, 1000.0]


def movielens_path(explicit: str | None = None) -> Path:
    """``ml-100k.inter`` inside the installed ``recbole`` package (or ``explicit``)."""
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("recbole is not installed: run `make bench-deps` (recbole==1.2.1 --no-deps)")
    return Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k" / "ml-100k.inter"


def load_movielens(path: Path) -> Interactions:
    """Read ``user_id:token item_id:token rating:float timestamp:float`` (tab-separated)."""
    raw = np.loadtxt(path, delimiter="\t", skiprows=1, dtype=np.float64)
    _, users = np.unique(raw[:, 0].astype(np.int64), return_inverse=True)
    _, items = np.unique(raw[:, 1].astype(np.int64), return_inverse=True)
    return Interactions.from_arrays(users, items, raw[:, 3])


def ours_als(params: dict[str, Any], train: Any) -> Recommend:
    model = AlternatingLeastSquares(factors=FACTORS, iterations=ITERATIONS, random_state=SEED, **params)
    model.fit(train)
    return lambda tr: model.recommend(np.arange(tr.shape[0]), tr, n=K)[0]


def ours_ease(params: dict[str, Any], train: Any) -> Recommend:
    model = EASE(**params).fit(train)
    return lambda tr: model.recommend(np.arange(tr.shape[0]), tr, n=K)[0]


def popularity(params: dict[str, Any], train: Any) -> Recommend:
    model = Popularity(**params).fit(train)
    return lambda tr: model.recommend(np.arange(tr.shape[0]), tr, n=K)[0]


def implicit_als(params: dict[str, Any], train: Any) -> Recommend:
    from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

    with threadpool_limits(limits=1, user_api="blas"):  # implicit's own advice
        model = ImplicitALS(
            factors=FACTORS,
            iterations=ITERATIONS,
            random_state=SEED,
            dtype=np.float32,
            use_cg=True,
            num_threads=1,
            **params,
        )
        model.fit(train, show_progress=False)
    return lambda tr: model.recommend(np.arange(tr.shape[0]), tr, N=K, filter_already_liked_items=True)[0]


def reference_ease(params: dict[str, Any], train: Any) -> Recommend:
    """EASE from its closed form in dense float64 numpy: the baseline shares no code with recs."""
    x = sp.csr_matrix(train, dtype=np.float64)
    x.data[:] = 1.0
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += params["l2"]
    inverse = np.linalg.inv(gram)
    weights = inverse / -np.diag(inverse)
    np.fill_diagonal(weights, 0.0)

    def recommend(history: Any) -> np.ndarray:
        seen = sp.csr_matrix(history, dtype=np.float64)
        seen.data[:] = 1.0
        scores = np.asarray(seen @ weights, dtype=np.float32)
        scores[seen.nonzero()] = -np.inf
        return select_topk(scores, K)[0]

    return recommend


def grid(**axes: list[Any]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def tune_and_test(
    name: str,
    fit: Fit,
    candidates: list[dict[str, Any]],
    tuning: tuple[Any, Any],
    final: tuple[Any, Any],
    per_user: dict[str, Any],
) -> dict[str, Any]:
    """Pick params by validation NDCG@K, refit on the full training part, score on test once.

    The test NDCG of each user goes to ``per_user[name]`` (for the paired comparisons).
    """
    inner_train, validation = tuning
    train, test = final
    trials: list[dict[str, Any]] = []
    for params in candidates:
        began = time.perf_counter()
        report = evaluate_topk(fit(params, inner_train)(inner_train), validation, K)
        trials.append(
            {
                "params": params,
                "validationNdcg": round(report.ndcg, 5),
                "seconds": round(time.perf_counter() - began, 2),
            }
        )
    best = max(trials, key=lambda t: t["validationNdcg"])
    began = time.perf_counter()
    top = fit(best["params"], train)(train)
    result = evaluate_topk(top, test, K)
    per_user[name] = ndcg_per_user(top, test, K)
    log(f"  {name}: best {best['params']} (validation {best['validationNdcg']:.4f})")
    log(f"  {name}: test NDCG@{K} {result.ndcg:.4f}")
    return {
        "bestParams": best["params"],
        "validationNdcg": best["validationNdcg"],
        "test": {
            key: round(value, 5) if isinstance(value, float) else value
            for key, value in result.as_dict().items()
        },
        "refitAndScoreSeconds": round(time.perf_counter() - began, 2),
        "grid": trials,
    }


LABELS = {
    "recs_chosen": "recs (family chosen on validation)",
    "recs_als": "recs ALS",
    "recs_ease": "recs EASE",
    "implicit_als": "implicit ALS 0.7.2",
    "ease_reference": "EASE (reference, dense numpy)",
    "popularity": "popularity",
}


def run(quick: bool, data: str | None = None) -> dict[str, Any]:
    """Tune every model on validation, score it once on test; the same protocol in both modes.

    Parameters
    ----------
    quick
        Ignored: the whole comparison takes seconds.
    data
        Path of ``ml-100k.inter``; default: inside the installed ``recbole`` package.

    Returns
    -------
    dict
        ``figures`` (the goal rows, then every metric of every model), ``models`` (grids,
        chosen parameters, test metrics), the dataset and the protocol.
    """
    del quick
    events = load_movielens(movielens_path(data))
    split = per_user_time_split(events, 0.2)
    tuning_split = validation_split(split.train, "per_user", fraction=0.2)
    final = (split.train_csr(), split.test_csr())
    tuning = (tuning_split.train_csr(), tuning_split.test_csr())
    log(
        f"ml-100k: {events.n_users} users, {events.n_items} items, train {final[0].nnz}, "
        f"test {final[1].nnz}, validation {tuning[1].nnz}"
    )
    models: dict[str, tuple[Fit, list[dict[str, Any]]]] = {
        "popularity": (popularity, [{}]),
        "recs_als": (ours_als, grid(regularization=REGULARIZATION, alpha=OURS_ALPHA)),
        "recs_ease": (ours_ease, grid(l2=EASE_L2)),
        "implicit_als": (
            implicit_als,
            grid(regularization=REGULARIZATION, alpha=[a + 1.0 for a in OURS_ALPHA]),
        ),
        "ease_reference": (reference_ease, grid(l2=EASE_L2)),
    }
    per_user: dict[str, Any] = {}
    results = {
        name: tune_and_test(name, fit, cands, tuning, final, per_user)
        for name, (fit, cands) in models.items()
    }
    # What MODEL_FAMILY=auto would publish: the family that wins on validation, never on test.
    chosen = max(("recs_als", "recs_ease"), key=lambda name: results[name]["validationNdcg"])
    results["recs_chosen"] = {**results[chosen], "family": chosen, "grid": []}
    per_user["recs_chosen"] = per_user[chosen]
    # Test NDCG differences a few thousandths apart may be ties: how sure each comparison is.
    differences = {
        f"{ours} - {theirs}": paired_bootstrap(per_user[ours], per_user[theirs], seed=SEED).as_dict()
        for ours in ("recs_chosen", "recs_als")
        for theirs in ("implicit_als", "ease_reference", "popularity")
    }
    return {
        "command": COMMAND,
        "seeds": {"models": SEED},
        "figures": _figures(results, chosen, differences),
        "ndcgDifferences": differences,
        "dataset": {
            "name": "MovieLens 100K (recbole 1.2.1 copy)",
            "users": events.n_users,
            "items": events.n_items,
            "interactions": len(events),
            "train": int(final[0].nnz),
            "test": int(final[1].nnz),
            "validation": int(tuning[1].nnz),
        },
        "protocol": {
            "test": "per-user last 20% by time",
            "validation": "per-user last 20% of train",
            "k": K,
            "factors": FACTORS,
            "iterations": ITERATIONS,
            "threads": 1,
            "seenItemsFiltered": True,
        },
        "chosenFamily": chosen,
        "models": results,
    }


def _figures(results: dict[str, Any], chosen: str, differences: dict[str, Any]) -> list[Figure]:
    area = "Quality: MovieLens 100K"
    ndcg = {name: float(r["test"]["ndcg"]) for name, r in results.items()}
    reference = max(("implicit_als", "ease_reference"), key=lambda name: ndcg[name])
    rows = [
        judged_figure(
            area,
            f"NDCG@10, {LABELS['recs_chosen']}: {LABELS[chosen]}",
            ndcg["recs_chosen"],
            baseline=f"best of implicit ALS and EASE: {LABELS[reference]}",
            baseline_value=ndcg[reference],
            goal=">= the best of implicit ALS and EASE",
            difference=differences[f"recs_chosen - {reference}"],
        ),
        judged_figure(
            area,
            "NDCG@10, recs ALS",
            ndcg["recs_als"],
            baseline=LABELS["implicit_als"],
            baseline_value=ndcg["implicit_als"],
            goal=">= implicit ALS",
            difference=differences["recs_als - implicit_als"],
        ),
    ]
    for name in ("recs_chosen", "recs_als", "recs_ease", "implicit_als", "ease_reference", "popularity"):
        test = results[name]["test"]
        for metric in ("ndcg", "recall", "precision", "coverage"):
            rows.append(
                figure(
                    area,
                    f"{LABELS[name]}: {metric}@10",
                    float(test[metric]),
                    "",
                    baseline="popularity" if name != "popularity" else None,
                    baseline_value=float(results["popularity"]["test"][metric])
                    if name != "popularity"
                    else None,
                    note=f"chosen on validation: {results[name]['bestParams']}" if metric == "ndcg" else None,
                )
            )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="path to ml-100k.inter (default: inside the recbole package)")
    parser.add_argument("--quick", action="store_true", help="the same run (it takes seconds)")
    args = parser.parse_args(argv)
    quiet_known_warnings()
    emit(run(quick=args.quick, data=args.data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
