"""The workflow's Spark branch on the local stack: the real state machine definition, Prepare
choosing Spark past the stack's SparkMinInteractions, TrainOnSpark run by EMR Serverless's local
stand-in (pyspark in local mode, the same job script), ImportFactors, then the usual steps to a
version that serves; and a failed Spark job that leaves the previous version serving."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from recs.store_layout import version_meta_key
from recs.training.pipeline import SPARK_SEARCH_SKIPPED
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event
from tests.integration.serving.world import with_query
from tests.integration.training.support import (
    artifact,
    artifact_keys,
    entered_states,
    ingest_shop,
    model_row,
    pointer,
    upload_catalog,
)


@pytest.fixture
def spark_stack() -> Iterator[LocalStack]:
    """A stack whose every run trains on Spark (SparkMinInteractions 1)."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", "SparkMinInteractions": "1"}) as local:
        yield local


def test_a_window_past_the_threshold_trains_on_spark_and_the_version_serves(spark_stack: LocalStack) -> None:
    # Given a shop's events and catalog, on a stack that trains on Spark from one interaction
    shop = ingest_shop(spark_stack)
    upload_catalog(spark_stack, shop)
    # When the training state machine runs
    execution = spark_stack.run_training()
    # Then it went through the Spark branch and on to the flip
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    states = entered_states(spark_stack, execution)
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
    meta = model_row(spark_stack, *version_meta_key(version))
    assert meta is not None
    assert meta["status"] == "published"
    evaluation = json.loads(meta["evaluation"])
    assert evaluation["model"]["ndcg"] > evaluation["popularity"]["ndcg"]
    # And the pointer names it, the Spark files are cleaned up with the other intermediates
    assert pointer(spark_stack)["modelVersion"] == version  # type: ignore[index]
    assert not [k for k in artifact_keys(spark_stack, f"models/{version}/") if "/spark/" in k]
    # And a known shopper is served a personalized list from it
    counts = Counter(e.get("userId") for e in shop.events if e.get("userId"))
    user = next(u for u, _ in counts.most_common() if u not in set(shop.opted_out_user_ids))
    served = spark_stack.invoke(
        "RecommendFunction", with_query(load_event("recommend_homepage"), userId=user)
    )
    assert served["statusCode"] == 200
    body = body_of(served)
    assert body["modelVersion"] == version
    assert body["products"]


def test_a_failed_spark_job_is_recorded_and_the_previous_version_keeps_serving(
    spark_stack: LocalStack,
) -> None:
    # Given a version published through the Spark branch
    ingest_shop(spark_stack)
    assert spark_stack.run_training()["status"] == "SUCCEEDED"
    before = pointer(spark_stack)
    assert before is not None
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
    served = spark_stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == before["modelVersion"]
