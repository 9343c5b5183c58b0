"""Prepare in the training container, its runtime side: where PlanPrepare sends Prepare (the
window's lake bytes against the threshold, from the listing alone), the entry point's prepare step
(its request, its usage errors, its exit status) and the prepared job it hands back to the workflow."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, cast

import pytest

from recs.store_layout import prepared_run_key
from recs.training.errors import TrainingError
from recs.training.parameters import TrainingParameters
from recs.training.prepare.plan import PreparePlanner, window_day_prefixes
from recs.training.prepare_step import PrepareDeps, PrepareStep
from recs.training.workflow import PreparedJob, PrepareRequest
from recs.wiring import train_container
from recs.wiring.train_container import EXIT_FAILED, EXIT_USAGE, JOB_VARIABLE, UsageError, parse_arguments
from recs_tools.memory_objects import MemoryObjects
from tests.clock import PINNED_NOW

REQUEST: dict[str, Any] = {
    "executionName": "run-1",
    "startedAt": "2026-03-02T12:00:00Z",
    "input": {"trigger": "schedule"},
}
PREPARED = PreparedJob(
    executionName="run-1",
    modelVersion="v20260302T120000.000Z-1a2b3c",
    generatedAt="2026-03-02T12:00:00Z",
    endTs=1772452800.0,
    stats={"interactions": 12},
    engine="container",
)


# ---------------------------------------------------------------------- where Prepare runs
def _lake(days_back: Sequence[int], size: int = 100) -> MemoryObjects:
    """One object of ``size`` bytes under each arrival day that many days before the pinned now."""
    return MemoryObjects(
        {f"events/{PINNED_NOW - timedelta(days=d):%Y/%m/%d}/10/o-{d}.gz": b"x" * size for d in days_back}
    )


class _NoListing(MemoryObjects):
    def list_sizes(self, prefix: str) -> Iterator[tuple[str, int]]:
        raise AssertionError("the lake was listed")


def test_the_window_is_every_arrival_day_prepare_reads() -> None:
    # Given a window of two days ending at the pinned now
    days = list(window_day_prefixes("events/", PINNED_NOW - timedelta(days=2), PINNED_NOW))
    # Then it is the lake folders of the start's day through today's, as Prepare reads them
    assert days == [f"events/{PINNED_NOW - timedelta(days=d):%Y/%m/%d}/" for d in (2, 1, 0)]


@pytest.mark.parametrize(
    ("threshold", "engine"),
    [(301, "lambda"), (300, "container"), (1, "container")],
)
def test_prepare_runs_in_the_container_from_the_windows_lake_bytes_on(threshold: int, engine: str) -> None:
    # Given a lake with three objects of 100 bytes in a 10-day window and one older than it
    lake = _lake([0, 3, 9, 40])
    planner = PreparePlanner(lake, "events/", window_days=10, min_lake_bytes=threshold)
    # When Prepare is planned
    plan = planner.plan(PrepareRequest.model_validate(REQUEST), PINNED_NOW)
    # Then the window's bytes and objects are counted (not the older day's) against the threshold
    assert (plan.lakeBytes, plan.lakeObjects, plan.minLakeBytes) == (300, 3, threshold)
    assert plan.engine == engine
    # And the request Prepare takes goes with the plan, unchanged
    assert plan.request == PrepareRequest.model_validate(REQUEST)


def test_with_the_threshold_off_the_lake_is_not_listed() -> None:
    # Given the stack's default threshold (0)
    planner = PreparePlanner(_NoListing(), "events/", window_days=10, min_lake_bytes=0)
    # When Prepare is planned / Then it runs on the function and nothing was listed
    plan = planner.plan(PrepareRequest.model_validate(REQUEST), PINNED_NOW)
    assert (plan.engine, plan.lakeBytes, plan.lakeObjects) == ("lambda", 0, 0)


# ---------------------------------------------------------------------- the entry point's request
def test_the_prepare_step_takes_a_prepare_request_from_the_environment_or_the_argument() -> None:
    # Given a request in the environment and another one as --job
    environ = {JOB_VARIABLE: json.dumps(REQUEST)}
    other = {**REQUEST, "executionName": "run-2"}
    # When each is parsed / Then the environment's serves when no argument is given
    parsed = parse_arguments(["--step", "prepare"], environ)
    assert parsed == PrepareRequest.model_validate(REQUEST)
    # And the argument wins
    again = parse_arguments(["--step", "prepare", "--job", json.dumps(other)], environ)
    assert isinstance(again, PrepareRequest)
    assert again.executionName == "run-2"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("", "no job: pass --job or set"),
        ("[1,", "not JSON"),
        (json.dumps(PREPARED.to_state()), "not a prepare request \\(fields: .*modelVersion"),
        (json.dumps({**REQUEST, "executionName": "../../models/x"}), "not a Step Functions execution name"),
        (json.dumps({**REQUEST, "executionName": ""}), "not a Step Functions execution name"),
    ],
)
def test_a_missing_or_wrong_request_is_a_usage_error_naming_what_is_wrong(
    document: str, message: str
) -> None:
    # Given a request that is missing, not JSON, a prepared job, or names no execution
    # When the prepare step parses it / Then the usage error says what is wrong
    with pytest.raises(UsageError, match=message):
        parse_arguments(["--step", "prepare"], {JOB_VARIABLE: document})


class _Prepare:
    """Stands in for the prepare step: records the request, or fails as Prepare can."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.requests: list[PrepareRequest] = []

    def prepare_in_container(self, request: PrepareRequest) -> PreparedJob:
        self.requests.append(request)
        if self.error:
            raise self.error
        return PREPARED


def _main(argv: Sequence[str], environ: dict[str, str], prepare: _Prepare) -> int:
    def no_training() -> Any:
        raise AssertionError("the prepare step trained")

    return train_container.main(
        argv, environ, pipeline=no_training, prepare=lambda: cast(PrepareStep, prepare)
    )


def test_the_prepare_step_prepares_the_request_and_exits_0() -> None:
    # Given a prepare request / When the container starts with --step prepare
    # Then it prepares that request (never trains) and exits 0
    prepare = _Prepare()
    assert _main(["--step", "prepare"], {JOB_VARIABLE: json.dumps(REQUEST)}, prepare) == 0
    assert [r.executionName for r in prepare.requests] == ["run-1"]


def test_a_failed_prepare_exits_1(caplog: pytest.LogCaptureFixture) -> None:
    # Given a Prepare that fails (no usable events, a store down)
    prepare = _Prepare(TrainingError("no usable events"))
    # When the container starts / Then it exits 1, the reason in its log
    assert _main(["--step", "prepare"], {JOB_VARIABLE: json.dumps(REQUEST)}, prepare) == EXIT_FAILED
    assert prepare.requests


def test_a_bad_request_exits_2_and_prepares_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no request at all / When the container starts / Then it exits 2, says why, no traceback
    prepare = _Prepare()
    assert _main(["--step", "prepare"], {}, prepare) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "usage error: no job" in err
    assert "Traceback" not in err
    assert prepare.requests == []


def test_an_unknown_step_is_argparses_usage_error() -> None:
    # Given a step the entry point does not run / When it is parsed / Then argparse exits 2
    with pytest.raises(SystemExit) as stopped:
        parse_arguments(["--step", "publish"], {JOB_VARIABLE: json.dumps(REQUEST)})
    assert stopped.value.code == 2


# ---------------------------------------------------------------------- the prepared job handed back
def _step(artifacts: MemoryObjects) -> PrepareStep:
    """A prepare step with only the artifact bucket: reading a stored job needs nothing else."""
    unused = cast(Any, None)
    deps = PrepareDeps(
        lake=MemoryObjects(),
        artifacts=artifacts,
        model_table=unused,
        privacy=unused,
        pseudonyms=unused,
        clock=lambda: PINNED_NOW,
    )
    return PrepareStep("events/", TrainingParameters(), deps)


def test_the_prepared_result_is_the_job_the_container_stored_for_this_execution() -> None:
    # Given the prepared job the container stored under the execution's name
    artifacts = MemoryObjects({prepared_run_key("run-1"): json.dumps(PREPARED.to_state()).encode()})
    # When PreparedResult reads it back for that execution / Then it is that job
    assert _step(artifacts).prepared_result(PrepareRequest.model_validate(REQUEST)) == PREPARED


def test_no_stored_job_or_another_executions_fails_the_step() -> None:
    # Given nothing stored for the execution / Then the step fails, naming where it looked
    with pytest.raises(TrainingError, match=r"stored no prepared job .*prepared/runs/run-1\.json"):
        _step(MemoryObjects()).prepared_result(PrepareRequest.model_validate(REQUEST))
    # Given another execution's job under this one's name / Then the step fails
    other = PREPARED.model_copy(update={"executionName": "run-0"})
    artifacts = MemoryObjects({prepared_run_key("run-1"): json.dumps(other.to_state()).encode()})
    with pytest.raises(TrainingError, match="run-0's, not run-1's"):
        _step(artifacts).prepared_result(PrepareRequest.model_validate(REQUEST))
