"""Prepare in the training container on the local stack: the real state machine definition,
PlanPrepare sizing the lake window against the stack's PrepareContainerMinLakeBytes,
PrepareInContainer run by AWS Batch's local stand-in (`recs.wiring.train_container --step
prepare`, with the job definition's environment from the template), PreparedResult, then the
usual engines to a version that serves; a failed container Prepare that leaves the previous version
serving; a window below the threshold prepared on the function; and the container's Prepare
writing what the function's writes from the same lake."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from recs.store_layout import PREPARED_DAYS_PREFIX, prepared_run_key, version_meta_key
from recs.wiring.train_container import JOB_VARIABLE
from recs_tools.local.container import JOB_FAILED
from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.integration.deploy.test_prepare_permissions import _lake_object
from tests.integration.training.support import (
    CONTAINER_PARAMETERS,
    artifact,
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
    upload_catalog,
)

#: Every window prepares in the container (one byte of lake is enough) and trains there.
PREPARE_IN_CONTAINER = {**CONTAINER_PARAMETERS, "PrepareContainerMinLakeBytes": "1"}
PREPARE_COMMAND = ["python", "-m", "recs.wiring.train_container", "--step", "prepare"]
TRAIN_COMMAND = ["python", "-m", "recs.wiring.train_container"]


@pytest.fixture
def prepare_stack() -> Iterator[LocalStack]:
    with LocalStack(parameter_overrides=PREPARE_IN_CONTAINER) as local:
        yield local


def _plan(stack: LocalStack, execution: dict[str, Any]) -> dict[str, Any]:
    """PlanPrepare's result, from the execution's history."""
    for event in stack.execution_history(execution["executionArn"]):
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == "PlanPrepare":
            plan: dict[str, Any] = json.loads(details["output"])["preparePlan"]
            return plan
    raise AssertionError("PlanPrepare did not run")


def test_a_window_past_the_lake_threshold_prepares_and_trains_in_the_container_and_serves(
    prepare_stack: LocalStack,
) -> None:
    # Given a shop's events and catalog, on a stack that prepares and trains in the container
    # When the training state machine runs
    shop, execution, states = trained_shop(prepare_stack)
    # Then Prepare ran in the container, not on the prepare function, and the run went on as usual
    for state in ("PlanPrepare", "WherePrepare", "PrepareInContainer", "PreparedResult", "ChooseEngine"):
        assert state in states
    assert "Prepare" not in states
    assert {"TrainInContainer", "ContainerResult", "Gate", "Flip"} <= set(states)
    plan = _plan(prepare_stack, execution)
    assert plan["engine"] == "container"
    assert plan["lakeBytes"] >= plan["minLakeBytes"] == 1
    assert plan["lakeObjects"] > 0
    # And two jobs ran: Prepare (the entry point's prepare step, handed the request) then Train
    prepare_job, train_job = prepare_stack.container_jobs.runs
    assert (prepare_job.command, train_job.command) == (PREPARE_COMMAND, TRAIN_COMMAND)
    assert prepare_job.succeeded, prepare_job.log_tail
    request = json.loads(prepare_job.environment[JOB_VARIABLE])
    output = json.loads(execution["output"])
    version = output["modelVersion"]
    assert request["executionName"] == output["executionName"]
    assert json.loads(train_job.environment[JOB_VARIABLE])["modelVersion"] == version
    # And the prepared job the container stored is what the workflow went on with
    stored = json.loads(artifact(prepare_stack, prepared_run_key(output["executionName"])))
    assert stored["modelVersion"] == version
    assert stored["stats"] == output["stats"]
    # And the version was published, and a known shopper is served from it
    assert_published(prepare_stack, version)
    assert_serves_a_known_shopper(prepare_stack, shop, version)


def test_a_failed_container_prepare_is_recorded_and_the_previous_version_keeps_serving(
    prepare_stack: LocalStack,
) -> None:
    # Given a version published through the container
    before = published_pointer(prepare_stack)
    # When the next run's container cannot prepare (its job definition names a lake bucket that
    # does not exist, as a broken image or role would fail it)
    jobs = prepare_stack.container_jobs
    jobs.definitions = {
        arn: {
            **props,
            "Environment": [
                {**item, "Value": "no-such-lake"} if item["Name"] == "LAKE_BUCKET_NAME" else item
                for item in props["Environment"]
            ],
        }
        for arn, props in jobs.definitions.items()
    }
    execution = prepare_stack.run_training()
    # Then the run fails through the Catch path before PreparedResult, and the pointer did not move
    assert execution["status"] == "FAILED"
    states = entered_states(prepare_stack, execution)
    assert {"PrepareInContainer", "RecordFailure", "NotifyFailure", "Failed"} <= set(states)
    assert "PreparedResult" not in states
    failed = jobs.runs[-1]
    assert (failed.command, failed.exit_code) == (PREPARE_COMMAND, 1)
    assert "preparing in the container failed" in failed.log_tail
    assert pointer(prepare_stack) == before
    # And RecordFailure was handed the failed job's error
    history = prepare_stack.execution_history(execution["executionArn"])
    recorded = [
        json.loads(e["stateEnteredEventDetails"]["input"])
        for e in history
        if e.get("stateEnteredEventDetails", {}).get("name") == "RecordFailure"
    ]
    assert [document["error"]["Error"] for document in recorded] == [JOB_FAILED]
    # And shoppers are still served from the previous version
    assert_serves_anonymous_from(prepare_stack, before["modelVersion"])


def test_a_window_below_the_lake_threshold_prepares_on_the_function() -> None:
    # Given a stack whose threshold is far above the local shop's lake
    overrides = {**PREPARE_IN_CONTAINER, "PrepareContainerMinLakeBytes": str(10**12)}
    with LocalStack(parameter_overrides=overrides, use_redis=False) as stack:
        ingest_shop(stack)
        # When a run trains
        execution = stack.run_training()
        # Then PlanPrepare measured the lake and Prepare ran on the function; only Train's job ran
        assert execution["status"] == "SUCCEEDED", execution.get("cause")
        states = entered_states(stack, execution)
        assert {"PlanPrepare", "WherePrepare", "Prepare", "TrainInContainer"} <= set(states)
        assert "PrepareInContainer" not in states
        plan = _plan(stack, execution)
        assert plan["engine"] == "lambda"
        assert 0 < plan["lakeBytes"] < plan["minLakeBytes"]
        assert [run.command for run in stack.container_jobs.runs] == [TRAIN_COMMAND]


# ---------------------------------------------------------------------- the same outputs both ways
def _prepared(stack: LocalStack, version: str) -> dict[str, Any]:
    """The version's prepared artifacts, by key under its prefix: arrays loaded, JSON parsed."""
    prefix = f"models/{version}/"
    found: dict[str, Any] = {}
    for key in artifact_keys(stack, f"{prefix}prepared/"):
        data = artifact(stack, key)
        name = key.removeprefix(prefix)
        if name.endswith(".npz"):
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                found[name] = {k: arrays[k] for k in arrays.files}
        else:
            found[name] = json.loads(data)
    return found


def _kept_days(stack: LocalStack) -> dict[str, Any]:
    return {
        key: pq.read_table(io.BytesIO(artifact(stack, key)))
        for key in artifact_keys(stack, PREPARED_DAYS_PREFIX)
    }


def _clear_kept_days(stack: LocalStack) -> None:
    keys = artifact_keys(stack, PREPARED_DAYS_PREFIX)
    if keys:
        stack.client("s3").delete_objects(
            Bucket=stack.physical["ArtifactBucket"], Delete={"Objects": [{"Key": k} for k in keys]}
        )


def test_the_container_prepares_what_the_function_prepares_from_the_same_lake(
    prepare_stack: LocalStack,
) -> None:
    # Given a lake with closed days (kept as Parquet by the first Prepare) and today's events,
    # and a catalog export
    shop = ingest_shop(prepare_stack)
    upload_catalog(prepare_stack, shop)
    day = PINNED_NOW.replace(hour=10, minute=0, second=0, microsecond=0)
    products = [str(p["id"]) for p in shop.catalog()][:4]
    _lake_object(prepare_stack, day - timedelta(days=2), "a", products[:3], first_id=0)
    _lake_object(prepare_stack, day - timedelta(days=1), "b", products[1:], first_id=10)
    request = {"startedAt": PINNED_NOW.isoformat(), "input": {"trigger": "manual"}}
    # When the prepare function prepares it
    on_function = prepare_stack.invoke(
        "PrepareFunction", {"step": "prepare", "job": {**request, "executionName": "on-function"}}
    )
    function_days = _kept_days(prepare_stack)
    # And, from the same lake with nothing kept, the container's prepare step does
    _clear_kept_days(prepare_stack)
    (definition,) = prepare_stack.container_jobs.definitions
    run = prepare_stack.container_jobs.run(
        "recs-prepare",
        "queue",
        definition,
        {
            "Command": PREPARE_COMMAND,
            "Environment": [
                {"Name": JOB_VARIABLE, "Value": json.dumps({**request, "executionName": "in-container"})}
            ],
        },
    )
    assert run.succeeded, run.log_tail
    in_container = prepare_stack.invoke(
        "PrepareFunction",
        {"step": "prepared_result", "job": {**request, "executionName": "in-container"}},
    )
    # Then both name a version, choose the same engine and count the same
    assert on_function["modelVersion"] != in_container["modelVersion"]
    assert in_container["executionName"] == "in-container"
    assert in_container["engine"] == on_function["engine"] == "container"
    assert in_container["stats"] == on_function["stats"]
    assert on_function["stats"]["interactions"] > 0
    # And they wrote the same prepared arrays and ids, array for array
    function_files = _prepared(prepare_stack, on_function["modelVersion"])
    container_files = _prepared(prepare_stack, in_container["modelVersion"])
    assert function_files.keys() == container_files.keys()
    assert function_files
    for name, written in function_files.items():
        if isinstance(written, dict) and all(isinstance(v, np.ndarray) for v in written.values()):
            assert written.keys() == container_files[name].keys(), name
            for array, values in written.items():
                np.testing.assert_array_equal(values, container_files[name][array], err_msg=f"{name}:{array}")
        else:
            assert written == container_files[name], name
    # And the same closed days kept, row for row
    container_days = _kept_days(prepare_stack)
    assert function_days.keys() == container_days.keys()
    assert len(function_days) == 2
    for key, table in function_days.items():
        assert table.equals(container_days[key]), key
    # And the same META row, but for when each started
    metas = [
        model_row(prepare_stack, *version_meta_key(j["modelVersion"])) for j in (on_function, in_container)
    ]
    rows = []
    for meta in metas:
        assert meta is not None
        # The version's key and what its start's clock decides differ; nothing else may
        rows.append({k: v for k, v in meta.items() if k not in ("pk", "sk", "startedAt", "expiresAt")})
    assert rows[0] == rows[1]
    assert rows[0]["status"] == "training"
