"""Two training runs started at once on the local stack (the real state machine under moto):
the second is refused by the lease and ends cleanly, the first publishes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import emf_metrics
from tests.integration.training.support import entered_states, ingest_shop, pointer, train_pipeline


def _versions_published(output: str) -> float:
    """The VersionsPublished count of the train function's metric documents (TrainingStaleAlarm's)."""
    return float(sum(d["VersionsPublished"][0] for d in emf_metrics(output) if "VersionsPublished" in d))


def test_a_run_started_during_another_is_refused_and_changes_nothing(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a lake with a shop's events, and a first run held inside its train step
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    real_train = pipeline.train
    training = threading.Event()
    second_done = threading.Event()

    def held_train(job: dict[str, Any], **options: Any) -> dict[str, Any]:
        training.set()
        assert second_done.wait(timeout=120), "the second run never finished"
        result: dict[str, Any] = real_train(job, **options)
        return result

    monkeypatch.setattr(pipeline, "train", held_train)
    first = stack.start_execution()
    assert training.wait(timeout=120), "the first run never reached its train step"
    # When a second run starts while the first is training
    capfd.readouterr()
    second = stack.wait_execution(stack.start_execution(), timeout_seconds=120)
    refused_output = capfd.readouterr().out
    second_done.set()
    # Then the second ends at once, at its named end, without purging or preparing anything
    assert second["status"] == "SUCCEEDED", second.get("cause")
    states = entered_states(stack, second)
    assert states[-1] == "AnotherRunInProgress"
    assert not {"Purge", "PlanPrepare", "Prepare", "RecordFailure", "NotifyFailure"} & set(states)
    output = json.loads(second["output"])
    assert output["refused"]["Error"] == "TrainingInProgressError"
    first_name = first.rsplit(":", 1)[-1]
    assert first_name in output["refused"]["Cause"]
    # And it counts as no version published (a success state, but nothing went live: the
    # staleness alarm must not take it for a fresh model)
    assert _versions_published(refused_output) == 0
    # And the first run publishes, then gives the lease back
    done = stack.wait_execution(first)
    assert done["status"] == "SUCCEEDED", done.get("cause")
    assert json.loads(done["output"])["cleanedUp"]["leaseReleased"] is True
    assert _versions_published(capfd.readouterr().out) == 1
    current = pointer(stack)
    assert current is not None
    assert current["modelVersion"] == json.loads(done["output"])["modelVersion"]
    # And the next scheduled run can take the lease and run (it is not blocked)
    monkeypatch.setattr(pipeline, "train", real_train)
    third = stack.run_training()
    assert third["status"] == "SUCCEEDED", third.get("cause")
    assert "Done" in entered_states(stack, third)


def test_a_failed_run_gives_the_lease_back(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a run that crashes in its evaluate step
    ingest_shop(stack)
    pipeline = train_pipeline(stack)
    real_evaluate = pipeline.evaluate

    def crash(job: dict[str, Any]) -> dict[str, Any]:
        raise MemoryError("simulated crash")

    monkeypatch.setattr(pipeline, "evaluate", crash)
    failed = stack.run_training()
    assert failed["status"] == "FAILED"
    assert "RecordFailure" in entered_states(stack, failed)
    # When the next run starts
    monkeypatch.setattr(pipeline, "evaluate", real_evaluate)
    execution = stack.run_training()
    # Then it is not refused: the failure path gave the lease back
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert "AnotherRunInProgress" not in entered_states(stack, execution)
    assert pointer(stack) is not None
