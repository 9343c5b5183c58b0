"""``recs tune`` (or ``python -m recs_tools.training.tune``): the run's parameter search, on its own.

Every training run already searches the family, its key hyperparameters and the buy-again mix
on a validation split within a budget (`recs.training.evaluate.search`). ``recs tune`` runs the same
search with the budget you give it (``--trials`` fits, no time limit) and prints the choice:
the values to start every run's search from (``recs train --params FILE``, or the training
function's environment variables). The split is the search's own: the test holdout (each
shopper's last visit) is never looked at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.training.evaluate.search import Progress, SearchResult, search, searched_values
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions

#: ``recs tune`` has no time limit: its budget is the number of fits.
UNLIMITED_SECONDS = 10.0**9


@dataclass(frozen=True)
class TuningResult:
    best: TrainingParameters
    best_score: float
    search: SearchResult

    def as_dict(self) -> dict[str, Any]:
        chosen = searched_values(self.best)
        changed = {
            name: value
            for name, value in chosen.items()
            if value != TrainingParameters.model_fields[name].get_default(call_default_factory=True)
        }
        return {
            "parameters": chosen,
            "changedFromDefaults": changed,
            "validationNdcg": self.best_score,
            "search": self.search.as_dict(),
        }


def tune(
    interactions: Interactions,
    unavailable: npt.NDArray[np.bool_],
    base: TrainingParameters,
    *,
    end_ts: float,
    trials: int = 48,
    progress: Progress | None = None,
) -> TuningResult:
    """The search with ``trials`` fits and no time limit."""
    budgeted = base.model_copy(update={"tuning_max_fits": trials, "tuning_budget_seconds": UNLIMITED_SECONDS})
    result = search(interactions, unavailable, budgeted, end_ts=end_ts, progress=progress)
    best = result.best.model_copy(
        update={"tuning_max_fits": base.tuning_max_fits, "tuning_budget_seconds": base.tuning_budget_seconds}
    )
    return TuningResult(best, result.best_score, result)


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
