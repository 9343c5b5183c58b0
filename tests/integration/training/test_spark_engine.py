"""The workflow's Spark branch on the local stack: the real state machine definition, Prepare
choosing Spark past the stack's SparkMinInteractions, TrainOnSpark run by EMR Serverless's local
stand-in (pyspark in local mode, the same job script), ImportFactors, then the usual steps to a
version that serves; and a failed Spark job that leaves the previous version serving."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from recs.training.pipeline import SPARK_SEARCH_SKIPPED
from recs_tools.local.stack import LocalStack
from tests.integration.training.support import (
    artifact,
    artifact_keys,
    assert_published,
    assert_serves_a_known_shopper,
    assert_serves_anonymous_from,
    entered_states,
    pointer,
    published_pointer,
    trained_shop,
)


@pytest.fixture
def spark_stack() -> Iterator[LocalStack]:
    """A stack whose every run trains on Spark (SparkMinInteractions 1)."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", "SparkMinInteractions": "1"}) as local:
        yield local


def test_a_window_past_the_threshold_trains_on_spark_and_the_version_serves(spark_stack: LocalStack) -> None:
    # Given a shop's events and catalog, on a stack that trains on Spark from one interaction
    # When the training state machine runs
    shop, execution, states = trained_shop(spark_stack)
    # Then it went through the Spark branch and on to the flip
    for state in ("Prepare", "ChooseEngine", "TrainOnSpark", "ImportFactors", "Train", "Evaluate", "Flip"):
        assert state in states
    # And the job ran once, through the entry point and arguments Prepare wrote
    (run,) = spark_stack.spark_jobs.runs
    assert run.succeeded, run.log_tail
    output = json.loads(execution["output"])
    version = output["modelVersion"]
    assert output["engine"] == "spark"
    assert run.entry_point == output["spark"]["entryPoint"]
    assert run.entry_point.endswith(f"/models/{version}/spark/als_job.py")
    assert run.arguments == output["spark"]["arguments"]
    # And the version's model is the Spark factors' ALS, its search skipped and saying why
    parameters = json.loads(artifact(spark_stack, f"models/{version}/model/parameters.json"))
    assert parameters["family"] == "als"
    assert parameters["search"] == {"skipped": SPARK_SEARCH_SKIPPED}
    # And it was published (its META row, the pointer), beating popularity
    evaluation = json.loads(assert_published(spark_stack, version)["evaluation"])
    assert evaluation["model"]["ndcg"] > evaluation["popularity"]["ndcg"]
    # And the Spark files are cleaned up with the other intermediates
    assert not [k for k in artifact_keys(spark_stack, f"models/{version}/") if "/spark/" in k]
    # And a known shopper is served a personalized list from it
    assert_serves_a_known_shopper(spark_stack, shop, version)


def test_a_failed_spark_job_is_recorded_and_the_previous_version_keeps_serving(
    spark_stack: LocalStack,
) -> None:
    # Given a version published through the Spark branch
    before = published_pointer(spark_stack)
    # When the next run's Spark job fails (Spark cannot start: a master URL it does not know)
    spark_stack.spark_jobs.master = "no-such-master"
    execution = spark_stack.run_training()
    # Then the run fails through the Catch path, before Train, and the pointer did not move
    assert execution["status"] == "FAILED"
    states = entered_states(spark_stack, execution)
    assert {"TrainOnSpark", "RecordFailure", "NotifyFailure", "Failed"} <= set(states)
    assert "ImportFactors" not in states
    assert "Train" not in states
    assert pointer(spark_stack) == before
    assert not spark_stack.spark_jobs.runs[-1].succeeded
    # And shoppers are still served from the previous version
    assert_serves_anonymous_from(spark_stack, before["modelVersion"])
