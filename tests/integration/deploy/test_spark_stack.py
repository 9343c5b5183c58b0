"""The Spark engine's resources as the local stack provisions them from template.yaml.

With SparkMinInteractions > 0 the stack has an EMR Serverless application and a job role, the
training workflow's TrainOnSpark names both, and the functions that load TrainSettings share the
threshold. With the default (0) none of it exists and the workflow's substitutions say "none".
On the Spark path, every call Prepare and ImportFactors make is allowed by the prepare function's
statements (the Spark ones exist only then), and each of those is needed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.integration.deploy.test_prepare_permissions import (
    _lake_object,
    _listed,
    allowing,
    recorded_calls,
    requests_of,
    statements_of,
)

#: The functions whose code loads recs.config.train.TrainSettings.
TRAIN_SETTINGS_FUNCTIONS = ("PrepareFunction", "TrainFunction", "PublishFunction")
#: Prepare's statements that exist only in a stack with Spark.
SPARK_SIDS = {"SparkJobAndInput", "SparkFactors", "ListSparkFactors", "ServingVersionPointer"}


@pytest.fixture
def spark_stack() -> Iterator[LocalStack]:
    overrides = {"LogLevel": "WARNING", "SparkMinInteractions": "1000"}
    with LocalStack(parameter_overrides=overrides, use_redis=False) as local:
        yield local


def _train_on_spark(stack: LocalStack) -> dict[str, Any]:
    parameters: dict[str, Any] = stack.state_machines["TrainingStateMachine"].definition["States"][
        "TrainOnSpark"
    ]["Parameters"]
    return parameters


def test_a_stack_with_spark_has_its_application_and_the_workflow_runs_jobs_on_it(
    spark_stack: LocalStack,
) -> None:
    # Given a stack started with SparkMinInteractions=1000
    emr = spark_stack.client("emr-serverless")
    # Then moto's EMR Serverless has the stack's one Spark application, as the template sizes it
    (summary,) = emr.list_applications()["applications"]
    application = emr.get_application(applicationId=summary["id"])["application"]
    assert application["name"] == "recs-local-spark"
    assert application["type"].upper() == "SPARK"
    assert application["releaseLabel"] == spark_stack.template["Parameters"]["SparkReleaseLabel"]["Default"]
    assert application["maximumCapacity"]["cpu"] == "200 vCPU"
    assert application["autoStopConfiguration"]["enabled"] is True
    assert spark_stack.physical["SparkApplication"] == summary["id"]
    # And the workflow's TrainOnSpark runs on that application, as the job role, with the
    # stack's spark-submit options
    role = spark_stack.client("iam").get_role(RoleName="recs-local-SparkJobRole")["Role"]
    parameters = _train_on_spark(spark_stack)
    assert parameters["ApplicationId"] == summary["id"]
    assert parameters["ExecutionRoleArn"] == role["Arn"]
    submit = spark_stack.template["Parameters"]["SparkSubmitParameters"]["Default"]
    assert parameters["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"] == submit
    # And only EMR Serverless may assume the role, for this application of this account
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == application["arn"]
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    # And every function loading TrainSettings has the same threshold
    for function in TRAIN_SETTINGS_FUNCTIONS:
        assert spark_stack.function(function).environment["SPARK_MIN_INTERACTIONS"] == "1000", function


def test_a_stack_without_spark_has_no_application_and_no_job_role(stack_without_cache: LocalStack) -> None:
    # Given a stack with the default SparkMinInteractions (0)
    stack = stack_without_cache
    # Then there is no Spark application and no job role
    assert stack.client("emr-serverless").list_applications()["applications"] == []
    assert "SparkApplication" not in stack.physical
    roles = {r["RoleName"] for r in stack.client("iam").list_roles()["Roles"]}
    assert "recs-local-SparkJobRole" not in roles
    # And TrainOnSpark's substitutions say so (Prepare never chooses Spark: the threshold is 0)
    parameters = _train_on_spark(stack)
    assert (parameters["ApplicationId"], parameters["ExecutionRoleArn"]) == ("none", "none")
    for function in TRAIN_SETTINGS_FUNCTIONS:
        assert stack.function(function).environment["SPARK_MIN_INTERACTIONS"] == "0", function
    # And the prepare function has none of the Spark path's rights
    properties = stack.template["Resources"]["PrepareFunction"]["Properties"]
    sids = {s["Sid"] for s in statements_of(stack.resolver.resolve(properties["Policies"]))}
    assert sids
    assert not sids & SPARK_SIDS


def _factor_files(stack: LocalStack, prepared: dict[str, Any]) -> None:
    """What the Spark job writes (`recs.training.spark.als_job`): per fitted part and side,
    Parquet part files of (id, features), and Spark's _SUCCESS marker."""
    spark = prepared["spark"]
    arguments = spark["arguments"]
    factors = int(arguments[arguments.index("--factors") + 1])
    output = arguments[arguments.index("--output") + 1]
    bucket, _, prefix = output.removeprefix("s3://").partition("/")
    s3 = stack.client("s3")
    for part in spark["parts"]:
        for side, rows in (("users", spark["users"]), ("items", spark["items"])):
            table = pa.table(
                {
                    "id": pa.array(range(rows), pa.int32()),
                    "features": pa.array([[0.1] * factors] * rows, pa.list_(pa.float32())),
                }
            )
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            key = f"{prefix}/{part}/{side}"
            s3.put_object(Bucket=bucket, Key=f"{key}/part-00000.snappy.parquet", Body=buffer.getvalue())
            s3.put_object(Bucket=bucket, Key=f"{key}/_SUCCESS", Body=b"")


def test_every_call_of_the_spark_path_is_allowed_and_every_spark_grant_is_used() -> None:
    # Given a stack whose threshold any window passes, and a lake of three hours' events
    overrides = {"LogLevel": "WARNING", "SparkMinInteractions": "1"}
    with LocalStack(parameter_overrides=overrides, use_redis=False) as stack:
        hour = PINNED_NOW.replace(minute=0, second=0, microsecond=0)
        _lake_object(stack, hour - timedelta(days=2), "a", ["sku_1", "sku_2", "sku_3"], first_id=0)
        _lake_object(stack, hour - timedelta(days=1), "b", ["sku_2", "sku_3", "sku_4"], first_id=10)
        _lake_object(stack, hour - timedelta(hours=1), "c", ["sku_1", "sku_4"], first_id=20)

        # When Prepare runs, the job writes its factors, and ImportFactors runs
        job = {"executionName": "spark", "startedAt": PINNED_NOW.isoformat(), "input": {"trigger": "manual"}}
        with recorded_calls() as prepare_calls:
            prepared: dict[str, Any] = stack.invoke("PrepareFunction", {"step": "prepare", "job": job})
        assert prepared["engine"] == "spark", json.dumps(prepared)[:500]
        _factor_files(stack, prepared)
        with recorded_calls() as import_calls:
            stack.invoke("PrepareFunction", {"step": "import_factors", "job": prepared})

        # Then every call is allowed by the prepare function's statements in this stack
        properties = stack.template["Resources"]["PrepareFunction"]["Properties"]
        statements = statements_of(stack.resolver.resolve(properties["Policies"]))
        assert {s["Sid"] for s in statements} >= SPARK_SIDS
        arns = {
            stack.physical[t]: stack.resolver.attributes[(t, "Arn")] for t in ("ModelTable", "StateTable")
        }
        used: set[tuple[str, str]] = set()
        for service, operation, params in prepare_calls + import_calls:
            for request in requests_of(service, operation, params, arns):
                allowed = allowing(request, statements)
                assert allowed, f"{service}:{operation} needs {request}, which no statement allows"
                used.update(allowed)
        # And each of the Spark path's own statements is needed by some call
        spark_grants = {
            (s["Sid"], a) for s in statements if s["Sid"] in SPARK_SIDS for a in _listed(s["Action"])
        }
        assert spark_grants <= used, spark_grants - used
