"""The offline run reports its stages, each ALS sweep of the final fit and the users written,
through TrainingProgress (what `recs train` draws its progress bars from)."""

from __future__ import annotations

from pathlib import Path

from recs.training.parameters import TrainingParameters
from recs.training.progress import TrainingProgress
from recs_tools.synthetic import build_config, generate_shop
from recs_tools.training.offline import run_offline


def test_an_offline_run_reports_stages_sweeps_and_users_written(tmp_path: Path) -> None:
    # Given a small shop's events, ALS fixed as the family with 4 sweeps, and no search
    shop = generate_shop(build_config("test", seed=5))
    params = TrainingParameters(model_family="als", als_iterations=4, auto_tune=False)
    stages: list[str] = []
    sweeps: list[int] = []
    written: list[int] = []
    watch = TrainingProgress(
        stage=stages.append,
        sweep=lambda iteration, _seconds: sweeps.append(iteration),
        users_written=written.append,
    )
    # When it runs offline with those hooks
    result = run_offline(shop.iter_events(), tmp_path, params, progress=watch)
    # Then the stages came in order, every sweep of the final fit was reported once, and the
    # users written add up to the users with a list
    assert [stage.split()[0] for stage in stages] == ["fitting", "deriving", "evaluating", "writing"]
    assert sweeps == [0, 1, 2, 3]
    assert sum(written) == result.users > 0


def test_the_parameter_search_is_a_stage_of_its_own_with_a_line_per_fit(tmp_path: Path) -> None:
    # Given the default run (the search picks the family, hyperparameters and mix), 3 fits at most
    shop = generate_shop(build_config("test", seed=5))
    stages: list[str] = []
    trials: list[int] = []
    # When it runs offline
    run_offline(
        shop.iter_events(),
        tmp_path,
        TrainingParameters(tuning_max_fits=3),
        progress=TrainingProgress(stages.append, trial=lambda number, _record: trials.append(number)),
    )
    # Then the search, then the choice of the session path's lists, are reported before the fit,
    # with one call per fitted trial
    assert stages[0].startswith("searching the family, its hyperparameters and the buy-again mix")
    assert stages[1].startswith("choosing the similar-items lists")
    assert stages[2].startswith("fitting")
    assert trials == [0, 1, 2]
