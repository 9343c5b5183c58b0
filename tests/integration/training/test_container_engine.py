"""The workflow's container branch on the local stack: the real state machine definition, Prepare
choosing the training container past the stack's ContainerMinInteractions, TrainInContainer run by
AWS Batch's local stand-in (the entry point `recs.wiring.train_container`, with the job
definition's environment from the template), ContainerResult, then the usual steps to a version
that serves; a failed container job that leaves the previous version serving; and the Spark
threshold winning over the container's for a window past both."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from recs.store_layout import version_meta_key
from recs_tools.local.container import JOB_FAILED
from recs_tools.local.stack import LocalStack
from tests.integration.training.support import (
    CONTAINER_PARAMETERS,
    artifact_keys,
    assert_published,
    assert_serves_a_known_shopper,
    assert_serves_anonymous_from,
    entered_states,
    ingest_shop,
    model_row,
    pointer,
    published_pointer,
    trained_shop,
)


@pytest.fixture
def container_stack() -> Iterator[LocalStack]:
    """A stack whose every run trains in the container (ContainerMinInteractions 1)."""
    with LocalStack(parameter_overrides=CONTAINER_PARAMETERS) as local:
        yield local


def test_a_window_past_the_threshold_trains_in_the_container_and_the_version_serves(
    container_stack: LocalStack,
) -> None:
    # Given a shop's events and catalog, on a stack that trains in the container from one interaction
    # When the training state machine runs
    shop, execution, states = trained_shop(container_stack)
    # Then it went through the container branch, not the training function's Train or Evaluate
    for state in ("Prepare", "ChooseEngine", "TrainInContainer", "ContainerResult", "Gate", "Flip"):
        assert state in states
    assert "Train" not in states
    assert "Evaluate" not in states
    assert "TrainOnSpark" not in states
    # And the job ran once: the image's command, the job definition's environment and the job
    (run,) = container_stack.container_jobs.runs
    assert run.succeeded, run.log_tail
    assert run.command == ["python", "-m", "recs.wiring.train_container"]
    output = json.loads(execution["output"])
    version = output["modelVersion"]
    assert output["engine"] == "container"
    job = json.loads(run.environment["RECS_TRAINING_JOB"])
    assert job["modelVersion"] == version
    assert job["engine"] == "container"
    assert run.environment["MODEL_TABLE_NAME"] == container_stack.physical["ModelTable"]
    assert run.environment["ARTIFACT_BUCKET_NAME"] == container_stack.physical["ArtifactBucket"]
    # And the version was searched and evaluated as on the training function, and published
    evaluation = json.loads(assert_published(container_stack, version)["evaluation"])
    assert evaluation["model"]["ndcg"] > evaluation["popularity"]["ndcg"]
    # And the container's result is cleaned up with the other intermediates
    assert not [k for k in artifact_keys(container_stack, f"models/{version}/") if "/container/" in k]
    # And a known shopper is served a personalized list from it
    assert_serves_a_known_shopper(container_stack, shop, version)


def test_a_failed_container_job_is_recorded_and_the_previous_version_keeps_serving(
    container_stack: LocalStack,
) -> None:
    # Given a version published through the container branch
    before = published_pointer(container_stack)
    # When the next run's container cannot train (its job definition names a model table that
    # does not exist, as a broken image or role would fail it)
    (definition,) = container_stack.container_jobs.definitions.values()
    broken = [
        {**item, "Value": "no-such-table"} if item["Name"] == "MODEL_TABLE_NAME" else item
        for item in definition["Environment"]
    ]
    container_stack.container_jobs.definitions = {
        arn: {**props, "Environment": broken}
        for arn, props in container_stack.container_jobs.definitions.items()
    }
    execution = container_stack.run_training()
    # Then the run fails through the Catch path, before ContainerResult, and the pointer did not move
    assert execution["status"] == "FAILED"
    states = entered_states(container_stack, execution)
    assert {"TrainInContainer", "RecordFailure", "NotifyFailure", "Failed"} <= set(states)
    assert "ContainerResult" not in states
    assert pointer(container_stack) == before
    failed = container_stack.container_jobs.runs[-1]
    assert failed.exit_code == 1
    # And the version's META row records the failed job and why (the entry point's log)
    failed_version = json.loads(failed.environment["RECS_TRAINING_JOB"])["modelVersion"]
    meta = model_row(container_stack, *version_meta_key(failed_version))
    assert meta is not None
    assert meta["status"] == "failed"
    assert meta["error"] == JOB_FAILED
    assert "training in the container failed" in meta["cause"]
    # And shoppers are still served from the previous version
    assert_serves_anonymous_from(container_stack, before["modelVersion"])


def test_a_window_past_both_thresholds_trains_on_spark() -> None:
    # Given a stack with both engines, Spark's threshold above the container's
    overrides = {**CONTAINER_PARAMETERS, "ContainerMinInteractions": "1", "SparkMinInteractions": "2"}
    with LocalStack(parameter_overrides=overrides) as stack:
        ingest_shop(stack)
        # When a run's window is past both
        execution = stack.run_training()
        # Then Spark trains it and the container never runs
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        states = entered_states(stack, execution)
        assert "TrainOnSpark" in states
        assert "TrainInContainer" not in states
        assert stack.container_jobs.runs == []
