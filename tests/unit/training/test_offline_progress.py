"""The offline run reports its stages, each ALS sweep of the final fit and the users written,
through TrainingProgress (what `recs train` draws its progress bars from)."""

from __future__ import annotations

from pathlib import Path

from recs.synthetic import build_config, generate_shop
from recs.training.offline import run_offline
from recs.training.parameters import TrainingParameters
from recs.training.progress import TrainingProgress


def test_an_offline_run_reports_stages_sweeps_and_users_written(tmp_path: Path) -> None:
    # Given a small shop's events and ALS fixed as the family, with 4 sweeps
    shop = generate_shop(build_config("test", seed=5))
    params = TrainingParameters(model_family="als", als_iterations=4)
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


def test_choosing_the_family_is_a_stage_of_its_own(tmp_path: Path) -> None:
    # Given the automatic family choice (ALS against EASE on a validation split)
    shop = generate_shop(build_config("test", seed=5))
    stages: list[str] = []
    # When it runs offline
    run_offline(
        shop.iter_events(),
        tmp_path,
        TrainingParameters(model_family="auto"),
        progress=TrainingProgress(stages.append),
    )
    # Then the choice is reported before the fit
    assert stages[0].startswith("choosing the model family")
    assert stages[1].startswith("fitting")
