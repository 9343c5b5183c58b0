"""Quality on the synthetic shop, with the product's own holdout: recs against every baseline.

    python -m bench --full --only shop_quality      # 54 tuning trials per method and shop
    python -m bench --quick --only shop_quality     # 16
    python -m bench.shop_quality [--quick]          # JSON to stdout

Two seeded shops (`recs.synthetic`, seed 23, a different seed from the one the shipped
defaults were tuned on): ``demo`` (1,500 users, 400 products) and ``grocery`` (staples bought
week after week). The protocol is the training pipeline's (`recs.training.holdout`): the last
3 days are the test holdout; each method is fitted on the days before with the run's weighted,
decayed confidence matrix and ranked exactly as published (availability, purchase exclusions,
the buy-again fusion); NDCG/recall/precision/coverage at 10 over the held-out interactions,
and again over held-out purchases only.

Every method is tuned on a validation split carved from the training part (the 3 days before
the test holdout), never on the test days:

* recs: ``recs tune`` itself (seeded random search over ALS, plus the EASE grid), then the
  chosen parameters evaluated with ``evaluate_holdout`` (the code the quality gate runs);
  also recs ALS with the shipped defaults, and with the buy-again signal off;
* implicit ALS 0.7.2: a grid over its factors, regularization, alpha and the buy-again weight
  with as many candidates as ``recs tune`` gets trials (the same tuning budget), ranked by the
  same code; an EASE reference (dense numpy, independent of ``recs.model``): a grid over its
  L2 penalty and the buy-again weight;
* popularity and "the products this user bought most" (no parameters).

Each goal comparison notes the mean per-user difference in test NDCG with its 95%
paired-bootstrap interval over the evaluated users (``HoldoutComparison.difference``): with a
few hundred users, differences of a few thousandths are ties.

The harness that ranks the baselines is checked against ``evaluate_holdout`` in the same run:
for recs ALS and popularity both must give identical metrics, or the benchmark fails.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from bench.environment import benchmark_main, log
from bench.figures import Figure, describe_difference, figure
from recs.synthetic import build_config, generate_shop
from recs.training.catalog import Catalog
from recs.training.fitting import Family, binary
from recs.training.holdout import MakeScorer, compare_on_holdout, evaluate_holdout, family_scorer
from recs.training.interactions import Interactions, build_interactions
from recs.training.matrix import SECONDS_PER_DAY
from recs.training.parameters import TrainingParameters
from recs.training.ranking import FactorScorer, ItemWeightScorer, Scorer
from recs.training.signals import Signals
from recs.training.tune import tune

SEED = 23
SHOPS = ("demo", "grocery")
COMMAND = "python -m bench --only shop_quality"


@dataclass(frozen=True)
class Shop:
    name: str
    interactions: Interactions
    unavailable: npt.NDArray[np.bool_]
    end_ts: float


def load_shop(preset: str, seed: int = SEED) -> Shop:
    shop = generate_shop(build_config(preset, seed=seed))
    end = shop.config.now.timestamp()
    interactions = build_interactions(shop.events, start_ts=end - 365 * SECONDS_PER_DAY, end_ts=end)
    catalog = Catalog.from_jsonl(json.dumps(product) for product in shop.catalog())
    return Shop(preset, interactions, catalog.unavailable_mask(interactions.items), end)


def holdout_metrics(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    params: TrainingParameters,
    *,
    end_ts: float,
    methods: dict[str, tuple[MakeScorer, float]],
) -> dict[str, Any]:
    """`evaluate_holdout`'s protocol (`compare_on_holdout`) for any scorer, as result JSON.

    Popularity and bought-most are always added. Returns metrics on held-out interactions and
    on held-out purchases per method.
    """
    compared = compare_on_holdout(interactions, unavailable, params, end_ts=end_ts, methods=methods)
    # Test NDCG differences a few thousandths apart may be ties: how sure each comparison is.
    differences = {
        f"recs_tuned - {baseline}": compared.difference("recs_tuned", baseline, seed=SEED).as_dict()
        for baseline in ("implicit_als", "ease_reference", "popularity", "boughtMost")
        if "recs_tuned" in compared.methods and baseline in compared.methods
    }
    return {
        "evaluatedUsers": compared.evaluated_users,
        "interactions": compared.on_interactions,
        "purchases": compared.on_purchases,
        "ndcgDifferences": differences,
    }


# ---------------------------------------------------------------------------------- scorers
def implicit_scorer(
    factors: int, regularization: float, alpha: float, iterations: int, seed: int
) -> MakeScorer:
    def make(signals: Signals, users: npt.NDArray[np.int64]) -> Scorer:
        from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

        with threadpool_limits(limits=1, user_api="blas"):  # implicit's own advice
            model = ImplicitALS(
                factors=factors,
                regularization=regularization,
                alpha=alpha,
                iterations=iterations,
                use_cg=True,
                dtype=np.float32,
                random_state=seed,
                num_threads=0,
                calculate_training_loss=False,
            )
            model.fit(signals.confidence, show_progress=False)
        return FactorScorer(
            np.asarray(model.user_factors[users], dtype=np.float32),
            np.asarray(model.item_factors, dtype=np.float32),
        )

    return make


def reference_ease_scorer(l2: float) -> MakeScorer:
    """EASE's closed form in dense float64 numpy (Steck 2019), on the binarized matrix."""

    def make(signals: Signals, users: npt.NDArray[np.int64]) -> Scorer:
        x = sp.csr_matrix(binary(signals.confidence), dtype=np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += l2
        inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)
        np.fill_diagonal(weights, 0.0)
        return ItemWeightScorer(binary(signals.confidence[users]), weights.astype(np.float32))

    return make


# ---------------------------------------------------------------------------------- tuning
def validation_window(shop: Shop, params: TrainingParameters) -> tuple[Interactions, float]:
    """The training part (before the test holdout) and its end: tuning never sees the test days."""
    test_cutoff = shop.end_ts - params.holdout_days * SECONDS_PER_DAY
    return shop.interactions.subset(shop.interactions.timestamp < test_cutoff), test_cutoff


def tune_baseline(
    shop: Shop,
    params: TrainingParameters,
    name: str,
    candidates: list[dict[str, Any]],
    build: Callable[[dict[str, Any]], MakeScorer],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The candidate with the best validation NDCG@10, and every trial."""
    part, validation_end = validation_window(shop, params)
    methods = {
        f"{name}#{i}": (build(candidate), float(candidate["buy_again_weight"]))
        for i, candidate in enumerate(candidates)
    }
    report = holdout_metrics(part, shop.unavailable, params, end_ts=validation_end, methods=methods)
    trials: list[dict[str, Any]] = [
        {"params": candidate, "validationNdcg": (report["interactions"][f"{name}#{i}"] or {}).get("ndcg")}
        for i, candidate in enumerate(candidates)
    ]
    best = max(trials, key=lambda t: float(t["validationNdcg"] or -1.0))
    log(f"  {shop.name}: {name} best {best['params']} (validation NDCG {best['validationNdcg']:.4f})")
    return best["params"], trials


def grid(**axes: Sequence[Any]) -> list[dict[str, Any]]:
    keys = list(axes)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*axes.values())]


def implicit_grid(quick: bool) -> list[dict[str, Any]]:
    """As many candidates as ``recs tune`` gets trials (`trials_for`): the same tuning budget."""
    if quick:
        return grid(
            factors=[32, 64], regularization=[0.1, 1.0], alpha=[2.0, 10.0], buy_again_weight=[0.0, 4.0]
        )
    return grid(
        factors=[32, 64],
        regularization=[0.1, 1.0, 5.0],
        alpha=[1.0, 5.0, 20.0],
        buy_again_weight=[0.0, 1.0, 4.0],
    )


def trials_for(quick: bool) -> int:
    """``recs tune``'s random trials: the size of the implicit grid."""
    return len(implicit_grid(quick))


def ease_grid(quick: bool) -> list[dict[str, Any]]:
    l2 = [50.0, 200.0, 1000.0] if quick else [10.0, 50.0, 200.0, 500.0, 1000.0]
    return grid(l2=l2, buy_again_weight=[0.0, 4.0] if quick else [0.0, 1.0, 4.0])


# ---------------------------------------------------------------------------------- one shop
def measure_shop(shop: Shop, quick: bool, trials: int) -> dict[str, Any]:
    base = TrainingParameters(random_seed=SEED)
    log(
        f"{shop.name}: {shop.interactions.n_users} visitors, {shop.interactions.n_items} products, "
        f"{len(shop.interactions)} interactions; recs tune with {trials} trials"
    )
    tuned = tune(shop.interactions, shop.unavailable, base, end_ts=shop.end_ts, trials=trials)
    chosen = tuned.best
    family: Family = "ease" if chosen.model_family == "ease" else "als"
    log(f"  {shop.name}: recs tune chose {family} (validation NDCG {tuned.best_score:.4f})")
    # The product's own evaluation of what it would publish (the quality gate's code).
    product = evaluate_holdout(
        shop.interactions, shop.unavailable, chosen, end_ts=shop.end_ts, families=[family]
    )

    implicit_best, implicit_trials = tune_baseline(
        shop,
        base,
        "implicit_als",
        implicit_grid(quick),
        lambda c: implicit_scorer(c["factors"], c["regularization"], c["alpha"], base.als_iterations, SEED),
    )
    ease_best, ease_trials = tune_baseline(
        shop, base, "ease_reference", ease_grid(quick), lambda c: reference_ease_scorer(c["l2"])
    )
    no_buy_again = chosen.model_copy(update={"buy_again_weight": 0.0})
    methods: dict[str, tuple[MakeScorer, float]] = {
        "recs_tuned": (family_scorer(family, chosen), chosen.buy_again_weight),
        "recs_tuned_without_buy_again": (family_scorer(family, no_buy_again), 0.0),
        "recs_als_defaults": (family_scorer("als", base), base.buy_again_weight),
        "implicit_als": (
            implicit_scorer(
                implicit_best["factors"],
                implicit_best["regularization"],
                implicit_best["alpha"],
                base.als_iterations,
                SEED,
            ),
            float(implicit_best["buy_again_weight"]),
        ),
        "ease_reference": (reference_ease_scorer(ease_best["l2"]), float(ease_best["buy_again_weight"])),
    }
    test = holdout_metrics(shop.interactions, shop.unavailable, base, end_ts=shop.end_ts, methods=methods)
    _check_harness(product, test, family)
    return {
        "shop": {
            "preset": shop.name,
            "seed": SEED,
            "visitors": shop.interactions.n_users,
            "products": shop.interactions.n_items,
            "interactions": len(shop.interactions),
            "evaluatedUsers": test["evaluatedUsers"],
        },
        "recsTuned": {
            "family": family,
            "validationNdcg": tuned.best_score,
            "parameters": tuned.as_dict()["changedFromDefaults"],
            "trials": len(tuned.trials),
        },
        "implicitAls": {"best": implicit_best, "trials": implicit_trials},
        "easeReference": {"best": ease_best, "trials": ease_trials},
        "test": test,
        "evaluateHoldout": product.as_dict(),
    }


def _check_harness(product: Any, test: dict[str, Any], family: str) -> None:
    """The baselines' harness must reproduce the gate's own numbers, or nothing here is comparable."""
    pairs = [
        (product.families[family], test["interactions"]["recs_tuned"], "recs"),
        (product.popularity, test["interactions"]["popularity"], "popularity"),
        (product.bought_most, test["interactions"]["boughtMost"], "boughtMost"),
    ]
    for expected, actual, name in pairs:
        if expected != actual:
            raise RuntimeError(f"harness disagrees with evaluate_holdout for {name}: {actual} != {expected}")


LABELS = {
    "recs_tuned": "recs (recs tune's choice)",
    "recs_tuned_without_buy_again": "recs, buy-again off",
    "recs_als_defaults": "recs ALS, shipped defaults",
    "implicit_als": "implicit ALS 0.7.2",
    "ease_reference": "EASE (reference, dense numpy)",
    "popularity": "popularity",
    "boughtMost": "bought most (the user's own purchases)",
}


def _figures(results: dict[str, Any]) -> list[Figure]:
    rows: list[Figure] = []
    demo = results["demo"]["test"]["interactions"]
    area = "Quality: synthetic shop"
    family = results["demo"]["recsTuned"]["family"]
    rows.append(
        figure(
            area,
            f"demo: NDCG@10, {LABELS['recs_tuned']} ({family})",
            demo["recs_tuned"]["ndcg"],
            "",
            baseline="popularity",
            baseline_value=demo["popularity"]["ndcg"],
            goal=">= 2 x popularity",
            met=demo["recs_tuned"]["ndcg"] >= 2 * demo["popularity"]["ndcg"],
            note=describe_difference(results["demo"]["test"]["ndcgDifferences"]["recs_tuned - popularity"]),
        )
    )
    for shop in SHOPS:
        metrics = results[shop]["test"]["interactions"]
        best_reference = max(("implicit_als", "ease_reference"), key=lambda n: metrics[n]["ndcg"])
        rows.append(
            figure(
                area,
                f"{shop}: NDCG@10, {LABELS['recs_tuned']}",
                metrics["recs_tuned"]["ndcg"],
                "",
                baseline=f"best of implicit ALS and EASE: {LABELS[best_reference]}",
                baseline_value=metrics[best_reference]["ndcg"],
                goal=">= the best of implicit ALS and EASE",
                met=metrics["recs_tuned"]["ndcg"] >= metrics[best_reference]["ndcg"],
                note=describe_difference(
                    results[shop]["test"]["ndcgDifferences"][f"recs_tuned - {best_reference}"]
                ),
            )
        )
    grocery = results["grocery"]["test"]
    for view, label in (("interactions", "held-out interactions"), ("purchases", "held-out purchases")):
        ours, theirs = grocery[view]["recs_tuned"]["ndcg"], grocery[view]["boughtMost"]["ndcg"]
        rows.append(
            figure(
                area,
                f"grocery: NDCG@10 on {label}, {LABELS['recs_tuned']} with buy-again",
                ours,
                "",
                baseline=LABELS["boughtMost"],
                baseline_value=theirs,
                goal=">= bought most",
                met=ours >= theirs,
                note=describe_difference(grocery["ndcgDifferences"]["recs_tuned - boughtMost"])
                if view == "interactions"
                else None,
            )
        )
        rows.append(
            figure(
                area,
                f"grocery: NDCG@10 on {label}, {LABELS['recs_tuned_without_buy_again']}",
                grocery[view]["recs_tuned_without_buy_again"]["ndcg"],
                "",
                baseline=LABELS["boughtMost"],
                baseline_value=theirs,
                note="what always filtering purchases would give",
            )
        )
    for shop in SHOPS:
        metrics = results[shop]["test"]["interactions"]
        for name, label in LABELS.items():
            if metrics.get(name) is None:
                continue
            for metric in ("ndcg", "recall", "precision", "coverage"):
                rows.append(
                    figure(
                        area,
                        f"{shop}: {label}: {metric}@10",
                        metrics[name][metric],
                        "",
                        baseline="popularity" if name != "popularity" else None,
                        baseline_value=metrics["popularity"][metric] if name != "popularity" else None,
                    )
                )
    return rows


def run(quick: bool) -> dict[str, Any]:
    """Tune every method on validation and evaluate it on the test holdout of both shops.

    Parameters
    ----------
    quick
        16 ``recs tune`` trials and 16 implicit candidates (and a smaller EASE grid) instead of
        54 and 54.

    Returns
    -------
    dict
        ``figures`` and, per shop, every method's metrics, the tuned parameters and trials.
    """
    trials = trials_for(quick)
    results = {name: measure_shop(load_shop(name), quick, trials) for name in SHOPS}
    return {
        "command": COMMAND,
        "seeds": {"shops": SEED, "models": SEED},
        "figures": _figures(results),
        "protocol": {
            "holdout": "last 3 days (test); the 3 days before them for validation",
            "k": 10,
            "recsTuneTrials": trials,
            "implicitGrid": implicit_grid(quick),
            "easeGrid": ease_grid(quick),
        },
        "shops": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark_main(__doc__, lambda quick: run(quick=quick), argv)


if __name__ == "__main__":
    raise SystemExit(main())
