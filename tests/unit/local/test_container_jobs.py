"""The local AWS Batch (recs_tools.local.container): how a job's command and environment are put
together from the job definition and the task's overrides, and how its end is reported."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable

import pytest

from recs_tools.local.container import ENTRY_MODULE, LocalContainerJobs

DEFINITION = "arn:aws:batch:eu-west-1:123456789012:job-definition/recs-local-training:1"
COMMAND = ["python", "-m", ENTRY_MODULE]


def _jobs(runner: Callable[[list[str]], int]) -> LocalContainerJobs:
    definition = {
        "Command": COMMAND,
        "Environment": [{"Name": "MODEL_TABLE_NAME", "Value": "models"}, {"Name": "TOP_K", "Value": 100}],
    }
    return LocalContainerJobs(definitions={DEFINITION: definition}, runner=runner)


def test_a_job_runs_the_definitions_command_with_its_environment_and_the_overrides() -> None:
    # Given a runner that records what it saw
    seen: list[tuple[list[str], str | None, str | None]] = []

    def runner(command: list[str]) -> int:
        seen.append((command, os.environ.get("MODEL_TABLE_NAME"), os.environ.get("RECS_TRAINING_JOB")))
        return 0

    jobs = _jobs(runner)
    # When a job is submitted with the job in the overrides
    overrides = {"Environment": [{"Name": "RECS_TRAINING_JOB", "Value": '{"modelVersion": "v1"}'}]}
    run = jobs.run("recs-training", "queue", DEFINITION, overrides)
    # Then the command saw the definition's environment plus the override, as strings
    assert seen == [(COMMAND, "models", '{"modelVersion": "v1"}')]
    assert run.succeeded
    assert run.environment["TOP_K"] == "100"
    # And the environment is restored after the job
    assert "RECS_TRAINING_JOB" not in os.environ
    assert jobs.runs == [run]


def test_a_non_zero_exit_fails_the_job_with_the_entry_points_log_as_the_cause() -> None:
    # Given an entry point that logs its failure and exits 1
    def runner(command: list[str]) -> int:
        try:
            raise RuntimeError("no such table")
        except RuntimeError:
            logging.getLogger("train-container").exception("training in the container failed")
        return 1

    # When the job runs / Then it failed, and its log tail names the error
    run = _jobs(runner).run("recs-training", "queue", DEFINITION, {})
    assert not run.succeeded
    assert run.exit_code == 1
    assert "training in the container failed: RuntimeError: no such table" in run.log_tail


def test_an_exit_by_systemexit_is_the_jobs_exit_status() -> None:
    # Given an entry point that exits as argparse does on a usage error
    def runner(command: list[str]) -> int:
        raise SystemExit(2)

    # When the job runs / Then its exit status is 2 and the cause says so
    run = _jobs(runner).run("recs-training", "queue", DEFINITION, {})
    assert (run.exit_code, run.log_tail) == (2, "exit status 2")


def test_an_unknown_job_definition_or_another_command_is_refused() -> None:
    jobs = _jobs(lambda command: 0)
    # Given a job definition the stack does not have / Then the submission is refused by name
    with pytest.raises(ValueError, match="no job definition 'other'"):
        jobs.run("recs-training", "queue", "other", {})
    # Given a command other than the image's / Then the default runner refuses it
    from recs_tools.local.container import _run_module

    with pytest.raises(ValueError, match=re.escape("runs recs.wiring.train_container only")):
        _run_module(["sh", "-c", "true"])
