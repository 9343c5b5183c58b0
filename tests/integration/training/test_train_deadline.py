"""The Train step is told when its invocation ends, and its search leaves the rest of the step
time to finish."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recs.training.deadline import Deadline
from recs.training.evaluate import search as search_module
from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import emf_metrics
from tests.integration.training.support import ingest_shop, train_pipeline


def test_the_train_step_gets_the_invocations_deadline_and_records_why_its_search_stopped(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shop's events and the training function's Train step watched
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    real_train = pipeline.train
    seconds_left: list[float] = []

    def watched_train(job: Any, **options: Any) -> Any:
        deadline = options.get("deadline")
        assert isinstance(deadline, Deadline)
        seconds_left.append(deadline.left())
        return real_train(job, **options)

    monkeypatch.setattr(pipeline, "train", watched_train)
    # When the workflow runs
    execution = stack.run_training()
    # Then the Train step ran once, told the time left of its invocation (the function's
    # 900 s timeout, from template.yaml, less what the handler spent before the step)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    [left] = seconds_left
    timeout = stack.function("TrainFunction").timeout_seconds
    assert timeout == 900
    assert timeout - 60 < left <= timeout
    # And the search, far from that deadline on a small shop, stopped for its own reasons
    search = json.loads(execution["output"])["search"]
    assert search["stoppedBy"] in {"converged", "budget"}


def test_a_search_cut_short_by_the_deadline_is_counted_for_its_alarm(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a shop's events, and a reserve so large that any deadline is near after one fit
    ingest_shop(stack)
    monkeypatch.setattr(search_module, "DEADLINE_RESERVE_FITS", 1e9)
    capfd.readouterr()
    # When the workflow runs
    execution = stack.run_training()
    # Then the run still publishes, its search stopped for the deadline after one fit, and the
    # train function counted it once (TrainStepNearTimeLimitAlarm's metric)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    search = json.loads(execution["output"])["search"]
    assert (search["stoppedBy"], search["fits"]) == ("deadline", 1)
    counted = [
        d["SearchStoppedByDeadline"]
        for d in emf_metrics(capfd.readouterr().out)
        if "SearchStoppedByDeadline" in d
    ]
    assert counted == [[1.0]]


def test_a_search_within_its_time_is_not_counted(
    stack: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a shop's events and the default reserve
    ingest_shop(stack)
    capfd.readouterr()
    # When the workflow runs / Then no search was counted as cut short
    assert stack.run_training()["status"] == "SUCCEEDED"
    assert not [d for d in emf_metrics(capfd.readouterr().out) if "SearchStoppedByDeadline" in d]
