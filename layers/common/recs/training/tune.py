"""``recs tune`` (or ``python -m recs.training.tune``): pick hyperparameters on a validation split.

The split is carved from the training part only: the last ``holdout_days`` of the window stay
the test holdout (never looked at here), and the ``holdout_days`` before them are the
validation days. Each trial fits on everything earlier and is scored on those validation days
with the holdout protocol of `recs.training.holdout` (the lists as they would be published).

Search: a seeded random search over the ALS space (factors, regularization, alpha,
confidence scaling, iterations, the buy-again weight) and, when the catalog is small enough
for EASE, a grid over its L2 penalty. The result is the best parameter set by NDCG@k, ready
for ``recs train --params FILE`` or as the training function's environment variables.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.training.fitting import Family
from recs.training.holdout import evaluate_holdout
from recs.training.interactions import Interactions
from recs.training.matrix import SECONDS_PER_DAY
from recs.training.parameters import TrainingParameters

ALS_SPACE: dict[str, tuple[Any, ...]] = {
    "als_factors": (32, 64, 128),
    "als_regularization": (0.01, 0.05, 0.2, 1.0, 5.0),
    "als_alpha": (0.5, 1.0, 2.0, 5.0, 10.0, 20.0),
    "als_confidence": ("linear", "log"),
    "als_iterations": (10, 15, 25),
    "buy_again_weight": (0.0, 0.5, 1.0, 2.0, 4.0),
}
EASE_L2 = (10.0, 50.0, 200.0, 500.0, 1000.0)

#: Called after each trial with (trial number, trial record).
Progress = Callable[[int, dict[str, Any]], None]


@dataclass(frozen=True)
class TuningResult:
    best: TrainingParameters
    best_score: float
    trials: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        changed = {
            name: value
            for name, value in self.best.recorded().items()
            if value != TrainingParameters.model_fields[name].get_default(call_default_factory=True)
        }
        return {
            "parameters": self.best.recorded(),
            "changedFromDefaults": changed,
            "validationNdcg": self.best_score,
            "trials": self.trials,
        }


def validation_part(
    interactions: Interactions, params: TrainingParameters, end_ts: float
) -> tuple[Interactions, float]:
    """The interactions before the test holdout, and where they end (the validation's end)."""
    test_cutoff = end_ts - params.holdout_days * SECONDS_PER_DAY
    return interactions.subset(interactions.timestamp < test_cutoff), test_cutoff


def candidates(base: TrainingParameters, n_items: int, trials: int, seed: int) -> list[TrainingParameters]:
    """The base parameters, ``trials`` random ALS variations and the EASE grid when eligible."""
    rng = np.random.default_rng(seed)
    tried: list[TrainingParameters] = [base.model_copy(update={"model_family": "als"})]
    seen = {_key(tried[0])}
    attempts = 0
    while len(tried) < trials + 1 and attempts < trials * 20:
        attempts += 1
        choice = {name: values[int(rng.integers(len(values)))] for name, values in ALS_SPACE.items()}
        option = TrainingParameters.model_validate({**base.recorded(), **choice, "model_family": "als"})
        if _key(option) not in seen:
            seen.add(_key(option))
            tried.append(option)
    if 0 < n_items <= base.ease_max_items:
        tried.extend(
            TrainingParameters.model_validate({**base.recorded(), "model_family": "ease", "ease_l2": l2})
            for l2 in EASE_L2
        )
    return tried


def tune(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    base: TrainingParameters,
    *,
    end_ts: float,
    trials: int = 24,
    progress: Progress | None = None,
) -> TuningResult:
    """Random search on the validation split; returns the best parameters and every trial."""
    part, validation_end = validation_part(interactions, base, end_ts)
    records: list[dict[str, Any]] = []
    best: tuple[float, TrainingParameters] | None = None
    for number, option in enumerate(candidates(base, interactions.n_items, trials, base.random_seed)):
        family: Family = "ease" if option.model_family == "ease" else "als"
        began = time.perf_counter()
        report = evaluate_holdout(part, unavailable, option, end_ts=validation_end, families=[family])
        metrics = report.families.get(family)
        score = float(metrics["ndcg"]) if metrics else float("nan")
        record = {
            "family": family,
            "parameters": _searched(option, family),
            "ndcg": score,
            "metrics": metrics,
            "popularityNdcg": report.popularity["ndcg"] if report.popularity else None,
            "seconds": round(time.perf_counter() - began, 3),
        }
        records.append(record)
        if progress is not None:
            progress(number, record)
        if metrics and (best is None or score > best[0]):
            best = (score, option)
    if best is None:
        raise ValueError("no user could be evaluated on the validation split; widen the window")
    return TuningResult(best[1], best[0], records)


def _key(option: TrainingParameters) -> tuple[Any, ...]:
    return tuple(sorted(_searched(option, "als").items()))


def _searched(option: TrainingParameters, family: Family) -> dict[str, Any]:
    if family == "ease":
        return {"ease_l2": option.ease_l2, "buy_again_weight": option.buy_again_weight}
    return {name: getattr(option, name) for name in ALS_SPACE}


def environment_lines(parameters: Mapping[str, Any]) -> Iterable[str]:
    """The parameters as the training function's environment variables (``ALS_FACTORS=32``)."""
    for name, value in parameters.items():
        if isinstance(value, dict):
            text = json.dumps(value)
        elif isinstance(value, bool):
            text = str(value).lower()
        else:
            text = str(value)
        yield f"{name.upper()}={text}"


if __name__ == "__main__":
    from recs.cli import main

    raise SystemExit(main(["tune", *sys.argv[1:]]))
