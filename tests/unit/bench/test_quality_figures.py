"""The quality benchmarks judge their goals on the paired interval they keep in their results:
a difference the interval cannot decide is a tie, whatever the point estimates say."""

from __future__ import annotations

from typing import Any

from bench import als_quality
from bench.figures import Figure
from recs.evaluation import PairedDifference


def _interval(low: float, high: float, users: int = 400) -> dict[str, Any]:
    return PairedDifference((low + high) / 2, low, high, 0.95, users, 2000).as_dict()


ABOVE, STRADDLING, BELOW = _interval(0.01, 0.03), _interval(-0.01, 0.012), _interval(-0.03, -0.002)


def _metrics(ndcg: float) -> dict[str, float]:
    return {"ndcg": ndcg, "recall": 0.1, "precision": 0.05, "coverage": 0.3}


def _goals(figures: list[Figure]) -> dict[str, Figure]:
    return {f["name"]: f for f in figures if f["goal"]}


def test_movielens_goals_read_their_paired_intervals() -> None:
    # Given results where recs leads implicit ALS on the point estimates in both goals, but
    # only the ALS-vs-ALS interval lies above zero
    ndcg = {"recs_chosen": 0.205, "recs_als": 0.205, "recs_ease": 0.19, "implicit_als": 0.2046}
    ndcg |= {"ease_reference": 0.19, "popularity": 0.12}
    results = {name: {"test": _metrics(value), "bestParams": {}} for name, value in ndcg.items()}
    differences = {"recs_chosen - implicit_als": STRADDLING, "recs_als - implicit_als": ABOVE}
    # When the figures are built
    goals = _goals(als_quality._figures(results, "recs_als", differences))
    # Then the first goal is a tie (not met), the second met, each noting the interval it read
    chosen = goals["NDCG@10, recs (family chosen on validation): recs ALS"]
    assert chosen["verdict"] == "tie"
    assert chosen["met"] is False
    assert chosen["difference"] == STRADDLING
    assert chosen["note"] == PairedDifference(**STRADDLING).describe()
    assert goals["NDCG@10, recs ALS"]["verdict"] == "met"
