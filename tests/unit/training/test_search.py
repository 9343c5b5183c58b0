"""The run's parameter search: validation only, seeded, within budget, and its fast mix scoring
ranks exactly as publishing does."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from recs.training.deadline import Deadline
from recs.training.evaluate import search as search_module
from recs.training.evaluate.holdout import hold_out
from recs.training.evaluate.search import neighbours, search
from recs.training.fit.fitting import fit
from recs.training.fit.ranking import rank
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions, build_interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.prepare.visits import last_visit_holdout
from recs_tools.synthetic import build_config, generate_shop

PARAMS = TrainingParameters(als_threads=1, tuning_max_fits=5)


def _shop(preset: str = "test", seed: int = 3) -> tuple[Interactions, np.ndarray, float]:
    shop = generate_shop(build_config(preset, seed=seed))
    end = shop.config.now.timestamp()
    inter = build_interactions(shop.events, start_ts=end - 400 * SECONDS_PER_DAY, end_ts=end)
    return inter, np.zeros(inter.n_items, dtype=np.bool_), end


def _without_seconds(result: dict[str, Any]) -> dict[str, Any]:
    trials = [{k: v for k, v in t.items() if k != "seconds"} for t in result["trials"]]
    return {**{k: v for k, v in result.items() if k != "seconds"}, "trials": trials}


def test_the_search_never_reads_the_test_holdout() -> None:
    # Given a shop, and the same shop with every test-holdout interaction (each user's last
    # visit) pointing at other products
    inter, unavailable, end = _shop("grocery", seed=4)
    test = last_visit_holdout(inter, gap_minutes=PARAMS.visit_gap_minutes, fraction=PARAMS.holdout_fraction)
    rng = np.random.default_rng(0)
    scrambled_items = inter.item.copy()
    scrambled_items[test] = rng.integers(0, inter.n_items, size=int(test.sum()), dtype=np.int32)
    scrambled = dataclasses.replace(inter, item=scrambled_items)
    # When both are searched
    original = search(inter, unavailable, PARAMS, end_ts=end)
    other = search(scrambled, unavailable, PARAMS, end_ts=end)
    # Then the choice, the mix (including the repeat propensity's exponent) and every trial are
    # identical: they rest on validation alone
    assert test.sum() > 100
    assert _without_seconds(original.as_dict()) == _without_seconds(other.as_dict())
    assert original.best.buy_again_weight > 0, "a grocery learns to use the repeat model"


def test_the_search_is_seeded_and_reproducible() -> None:
    # Given the same shop searched twice
    inter, unavailable, end = _shop()
    first = search(inter, unavailable, PARAMS, end_ts=end)
    second = search(inter, unavailable, PARAMS, end_ts=end)
    # Then it chose the same parameters through the same trials
    assert _without_seconds(first.as_dict()) == _without_seconds(second.as_dict())
    assert first.best.model_family in ("als", "ease", "knn")


def test_the_search_stops_at_its_budget_and_says_so() -> None:
    # Given a budget of four fits (the test shop is small: ALS, EASE and user-kNN all start)
    inter, unavailable, end = _shop()
    result = search(inter, unavailable, PARAMS.model_copy(update={"tuning_max_fits": 4}), end_ts=end)
    # Then it fitted four times, said why it stopped, and the best is the best trial
    assert [t["family"] for t in result.trials[:3]] == ["als", "ease", "knn"]
    assert len(result.trials) == 4
    assert result.stopped_by == "budget"
    assert result.best_score == pytest.approx(max(t["ndcg"] for t in result.trials), abs=1e-6)


def test_the_search_starts_from_the_previous_choice() -> None:
    # Given a previous version that chose EASE with L2 80
    inter, unavailable, end = _shop()
    start = {"model_family": "ease", "ease_l2": 80.0}
    result = search(
        inter, unavailable, PARAMS.model_copy(update={"tuning_max_fits": 2}), end_ts=end, start=start
    )
    # Then the first trials are scored at that point (for each candidate family)
    assert result.trials[0]["parameters"]["model_family"] == "als"
    assert result.trials[1]["parameters"] == {**result.trials[1]["parameters"], **start}
    assert result.trials[2]["parameters"]["model_family"] == "knn"


def test_a_time_budget_stops_the_search_too() -> None:
    # Given a clock that jumps an hour per reading and a budget of a minute
    inter, unavailable, end = _shop()
    ticks = iter(range(0, 10**6, 3600))
    params = PARAMS.model_copy(update={"tuning_max_fits": 50, "tuning_budget_seconds": 60.0})
    result = search(inter, unavailable, params, end_ts=end, clock=lambda: float(next(ticks)))
    # Then only the candidate families at the starting point were fitted (always scored)
    assert result.stopped_by == "budget"
    assert len(result.trials) == 3


class _FitsTaking:
    """A clock that moves only while a fit runs, each fit taking ``seconds``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
        self.now = 0.0
        real = search_module._fit_and_mix

        def timed(*args: Any, **kwargs: Any) -> Any:
            self.now += seconds
            return real(*args, **kwargs)

        monkeypatch.setattr(search_module, "_fit_and_mix", timed)

    def __call__(self) -> float:
        return self.now


def test_no_fit_starts_that_would_end_past_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given fits of 250 s (a million users) and the default 300 s budget, ALS alone
    inter, unavailable, end = _shop()
    clock = _FitsTaking(monkeypatch, 250.0)
    params = PARAMS.model_copy(update={"model_family": "als", "tuning_max_fits": 50})
    assert params.tuning_budget_seconds == 300.0
    # When the search runs
    result = search(inter, unavailable, params, end_ts=end, clock=clock)
    # Then it fitted once: a second fit would have ended at 500 s (the search once started it,
    # and the Train step ran past the training function's 15 minutes)
    assert len(result.trials) == 1
    assert result.stopped_by == "budget"
    assert result.seconds <= params.tuning_budget_seconds


def test_the_search_leaves_the_rest_of_the_step_time_before_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given fits of 100 s, a budget far off, and a step that must end 1,000 s from now
    inter, unavailable, end = _shop()
    clock = _FitsTaking(monkeypatch, 100.0)
    params = PARAMS.model_copy(
        update={"model_family": "als", "tuning_max_fits": 50, "tuning_budget_seconds": 1e6}
    )
    deadline = Deadline(1000.0, clock)
    # When the search runs
    result = search(inter, unavailable, params, end_ts=end, clock=clock, deadline=deadline)
    # Then it stopped for the deadline while the reserve (three fits as long as its longest)
    # was still left: seven fits, 300 s left for the session choice and the full fit
    assert result.stopped_by == "deadline"
    assert len(result.trials) == 7
    assert deadline.left() == pytest.approx(300.0)
    assert deadline.left() >= search_module.DEADLINE_RESERVE_FITS * 100.0


def test_a_near_deadline_skips_the_other_families_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a shop where ALS, EASE and user-kNN all start, fits of 100 s and 150 s left
    inter, unavailable, end = _shop()
    clock = _FitsTaking(monkeypatch, 100.0)
    params = PARAMS.model_copy(update={"tuning_max_fits": 50})
    # When the search runs
    result = search(inter, unavailable, params, end_ts=end, clock=clock, deadline=Deadline(150.0, clock))
    # Then only the first family was scored, and the record says why
    assert [trial["family"] for trial in result.trials] == ["als"]
    assert result.stopped_by == "deadline"
    assert result.best.model_family == "als"


def test_mix_scoring_ranks_exactly_as_publishing() -> None:
    # Given the validation split of a grocery and an ALS fit on its training part
    inter, unavailable, end = _shop("grocery", seed=4)
    params = PARAMS.model_copy(update={"buy_again_weight": 2.0, "repeat_personal": 1.0})
    split = hold_out(inter, unavailable, params, end_ts=end)
    users, signals = split.users, split.signals
    model = fit("als", signals.confidence, params)
    scorer = model.scorer(users, signals.confidence[users], signals.profile[users])
    # When the top-10 is computed from the search's candidates and by publishing's rank
    prepared = search_module._Prepared(inter, unavailable, end, split, None, params)
    boostable = search_module._boostable(
        prepared.own(params.model_copy(update={"repeat_decay": 1.0}))[users], signals.exclude[users]
    )
    [candidates] = search_module._candidates(scorer, [(boostable, signals.exclude[users])], None, params)
    fused = search_module._fused_top(candidates, signals.boost[users], 10)
    published = rank(
        scorer,
        10,
        exclude=signals.exclude[users],
        unavailable=unavailable,
        boost=signals.boost[users],
        boost_weight=1.0,
    )
    # Then both hold the same products for (nearly) every user: only exact score ties may differ
    same = [set(fused[row]) == set(published.ids[row]) for row in range(users.size)]
    assert users.size > 100
    assert np.mean(same) > 0.99


@pytest.mark.parametrize(
    ("axis", "value", "expected"),
    [
        ("ease_l2", 200.0, [80.0, 500.0]),
        ("als_factors", 32, [16, 64]),
        ("als_factors", 8, [16]),
        ("profile_half_life", 0.0, [0.05]),
        ("buy_again_weight", 4.0, [2.0, 8.0]),
        ("half_life_days", 240.0, [120.0, 0.0]),
        ("repeat_decay", 0.93, [0.9, 0.95]),
    ],
)
def test_neighbours_step_along_each_axis(axis: str, value: Any, expected: list[Any]) -> None:
    # Given a value on an axis / Then its neighbours are the adjacent steps, inside the bounds
    assert neighbours(axis, value, n_items=1000) == pytest.approx(expected)


def test_factors_never_exceed_the_catalog() -> None:
    # Given a catalog of 20 products / Then 32 factors only step down
    assert neighbours("als_factors", 32, n_items=20) == [16]
