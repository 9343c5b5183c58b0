"""Where every run's search starts: the committed defaults are the recorded recs tune proposal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.environment import REPO_ROOT
from bench.tune_defaults import propose, snap
from recs.training.parameters import TrainingParameters


def _run(chosen: dict[str, Any], best: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"chosen": chosen, "bestPerFamily": {f: {"ndcg": 0.1, "parameters": p} for f, p in best.items()}}


def test_the_committed_defaults_are_the_recorded_proposal() -> None:
    # Given the committed record of make tune-defaults (a full run, from a clean tree)
    record = json.loads((REPO_ROOT / "bench" / "results" / "tune_defaults.json").read_text(encoding="utf-8"))
    assert record["mode"] == "full"
    assert record["machine"]["git"]["uncommittedChanges"] is False
    # Then every value it proposes is the default of TrainingParameters
    defaults = TrainingParameters()
    assert {name: getattr(defaults, name) for name in record["proposal"]} == record["proposal"]


def test_a_family_starts_at_the_geometric_mean_of_its_best_trials_on_the_search_steps() -> None:
    # Given two data sets whose best EASE trials had L2 200 and 1250, and best ALS 16 and 64 factors
    runs = [
        _run({"buy_again_weight": 4.0}, {"ease": {"ease_l2": 200.0}, "als": {"als_factors": 16}}),
        _run({"buy_again_weight": 8.0}, {"ease": {"ease_l2": 1250.0}, "als": {"als_factors": 64}}),
    ]
    proposal = propose(runs)
    # Then EASE starts at 500 (their geometric mean), ALS at 32, and a tied mix at the first's
    assert proposal["ease_l2"] == pytest.approx(500.0)
    assert proposal["als_factors"] == 32
    assert proposal["buy_again_weight"] == 4.0


@pytest.mark.parametrize(
    ("axis", "value", "expected"),
    [
        ("ease_l2", 350.0, 500.0),
        ("ease_l2", 300.0, 200.0),
        ("als_regularization", 2.0, 3.0),
        ("profile_half_life", 0.3, 0.25),
    ],
)
def test_values_snap_to_the_steps_the_search_takes(axis: str, value: float, expected: float) -> None:
    assert snap(axis, value) == pytest.approx(expected)
