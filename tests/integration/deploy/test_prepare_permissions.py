"""The prepare function's IAM policy against what it really calls.

The local stack does not enforce IAM, so the function runs here with every AWS call recorded and
each call is then evaluated against the function's statements in template.yaml (resolved to this
stack's resources): every call must be allowed, and every statement must be needed by some call.
The run covers all Prepare does: the lake read, the catalog export, closed days kept as Parquet,
read back on the next run and replaced when a late object changes their day, the version's
prepared arrays, its META row, the opt-out and tombstone scan and the pseudonym key (read because
a tombstone exists).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from recs.store_layout import CATALOG_OBJECT_KEY, preference_key, tombstone_key
from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.integration.training.support import CONTAINER_PARAMETERS


@dataclass(frozen=True)
class Request:
    """One IAM authorization a call needs: action, resource ARN and the condition keys it carries."""

    action: str
    resource: str
    context: dict[str, list[str]] = field(default_factory=dict)


@contextmanager
def recorded_calls() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every AWS API call made meanwhile, by any client: (service, operation, parameters)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def record(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation, params))
        return original(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", record):
        yield calls


def requests_of(service: str, operation: str, params: dict[str, Any], arns: dict[str, str]) -> list[Request]:
    """What IAM authorizes for a call (the operations Prepare makes; any other fails the test)."""
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in ("GetObject", "PutObject"):
            return [Request(f"s3:{operation}", f"{bucket}/{params['Key']}")]
        if operation == "ListObjectsV2":
            return [Request("s3:ListBucket", bucket, {"s3:prefix": [params.get("Prefix", "")]})]
        if operation == "DeleteObjects":
            return [Request("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if service == "dynamodb":
        table = arns[params["TableName"]]
        if operation in ("GetItem", "PutItem"):
            key = params["Key"] if operation == "GetItem" else params["Item"]
            return [Request(f"dynamodb:{operation}", table, {"dynamodb:LeadingKeys": [key["pk"]["S"]]})]
        if operation == "Scan":
            return [Request("dynamodb:Scan", table)]
    if service == "secretsmanager" and operation == "GetSecretValue":
        return [Request("secretsmanager:GetSecretValue", params["SecretId"])]
    raise AssertionError(f"Prepare called {service}:{operation}, which this test does not know")


def statements_of(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The function's statements, SAM policy templates expanded (the one Prepare uses)."""
    statements: list[dict[str, Any]] = []
    for policy in policies:
        ((name, body),) = policy.items()
        if name == "Statement":
            statements += body
        elif name == "AWSSecretsManagerGetSecretValuePolicy":
            statements.append(
                {
                    "Sid": name,
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": body["SecretArn"],
                }
            )
        else:
            raise AssertionError(f"policy template {name} is not known to this test")
    return statements


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(conditions: dict[str, dict[str, Any]], context: dict[str, list[str]]) -> bool:
    for operator, tests in conditions.items():
        for key, patterns in tests.items():
            values = context.get(key)
            matches = [any(fnmatch.fnmatchcase(v, p) for p in _listed(patterns)) for v in values or []]
            if operator == "StringLike" and not (values and all(matches)):
                return False
            if operator == "ForAllValues:StringLike" and not all(matches):
                return False
            if operator not in ("StringLike", "ForAllValues:StringLike"):
                raise AssertionError(f"condition operator {operator} is not known to this test")
    return True


def allowing(request: Request, statements: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(Sid, action) of each statement that allows ``request``."""
    return [
        (statement["Sid"], request.action)
        for statement in statements
        if statement["Effect"] == "Allow"
        and request.action in _listed(statement["Action"])
        and any(fnmatch.fnmatchcase(request.resource, r) for r in _listed(statement["Resource"]))
        and _conditions_hold(statement.get("Condition", {}), request.context)
    ]


def _lake_object(stack: LocalStack, hour: datetime, name: str, products: list[str], first_id: int) -> None:
    records = [
        {
            "eventId": f"7e000000-0000-4000-8000-{first_id + i:012d}",
            "eventType": "view",
            "timestamp": (hour + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "userId": f"u_{i % 3}",
            "sessionId": f"s_{i % 2}",
            "productId": product,
        }
        for i, product in enumerate(products)
    ]
    key = f"events/{hour:%Y/%m/%d/%H}/{name}"
    body = "\n".join(json.dumps(record) for record in records).encode()
    stack.client("s3").put_object(Bucket=stack.physical["EventLakeBucket"], Key=key, Body=body)


def _prepare(
    stack: LocalStack, execution: str
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    job = {"executionName": execution, "startedAt": PINNED_NOW.isoformat(), "input": {"trigger": "manual"}}
    with recorded_calls() as calls:
        prepared: dict[str, Any] = stack.invoke("PrepareFunction", {"step": "prepare", "job": job})
    return prepared, calls


def test_every_call_prepare_makes_is_allowed_and_every_grant_is_used(stack: LocalStack) -> None:
    # Given a lake with two closed days and today, a catalog export, an opt-out and a tombstone
    day = PINNED_NOW.replace(hour=10, minute=0, second=0, microsecond=0)
    _lake_object(stack, day - timedelta(days=2), "a", ["sku_1", "sku_2", "sku_3"], first_id=0)
    _lake_object(stack, day - timedelta(days=1), "b", ["sku_2", "sku_3", "sku_4"], first_id=10)
    _lake_object(stack, day - timedelta(hours=1), "c", ["sku_1", "sku_4"], first_id=20)
    catalog = b'{"id": "sku_1", "category": "kitchen"}\n{"id": "sku_2", "available": false}\n'
    stack.client("s3").put_object(
        Bucket=stack.physical["ArtifactBucket"], Key=CATALOG_OBJECT_KEY, Body=catalog
    )
    dynamodb = stack.client("dynamodb")
    opt_out, tombstone = preference_key("u_opted_out"), tombstone_key("t_erased")
    for pk, sk, extra in ((*opt_out, {"recommendations": {"BOOL": False}}), (*tombstone, {})):
        dynamodb.put_item(
            TableName=stack.physical["StateTable"], Item={"pk": {"S": pk}, "sk": {"S": sk}, **extra}
        )

    # When Prepare runs, a late object arrives for yesterday, and Prepare runs again
    first, first_calls = _prepare(stack, "first")
    _lake_object(stack, day - timedelta(days=1, hours=-1), "late", ["sku_1"], first_id=30)
    second, second_calls = _prepare(stack, "second")
    assert first["modelVersion"] != second["modelVersion"]

    # Then every call either run made is allowed by the template's statements for the function
    properties = stack.template["Resources"]["PrepareFunction"]["Properties"]
    statements = statements_of(stack.resolver.resolve(properties["Policies"]))
    arns = {stack.physical[t]: stack.resolver.attributes[(t, "Arn")] for t in ("ModelTable", "StateTable")}
    used: set[tuple[str, str]] = set()
    for service, operation, params in first_calls + second_calls:
        for request in requests_of(service, operation, params, arns):
            allowed = allowing(request, statements)
            assert allowed, f"{service}:{operation} needs {request}, which no statement allows"
            used.update(allowed)
    # And no statement grants an action Prepare never needs
    assert used == {(s["Sid"], action) for s in statements for action in _listed(s["Action"])}


def test_planning_prepare_and_reading_the_containers_prepared_job_are_allowed() -> None:
    # Given a stack that prepares in the training container past one byte of lake, and a lake
    overrides = {**CONTAINER_PARAMETERS, "PrepareContainerMinLakeBytes": "1"}
    with LocalStack(parameter_overrides=overrides, use_redis=False) as stack:
        day = PINNED_NOW.replace(hour=10, minute=0, second=0, microsecond=0)
        _lake_object(stack, day - timedelta(days=1), "a", ["sku_1", "sku_2"], first_id=0)
        _lake_object(stack, day - timedelta(hours=1), "b", ["sku_2", "sku_3"], first_id=10)
        job = {"executionName": "planned", "startedAt": PINNED_NOW.isoformat(), "input": {}}
        # When the prepare function plans Prepare, the container prepares, and the function reads
        # the prepared job back
        with recorded_calls() as plan_calls:
            plan = stack.invoke("PrepareFunction", {"step": "plan_prepare", "job": job})
        assert plan["engine"] == "container"
        (definition,) = stack.container_jobs.definitions
        command = ["python", "-m", "recs.wiring.train_container", "--step", "prepare"]
        variables = [{"Name": "RECS_TRAINING_JOB", "Value": json.dumps(plan["request"])}]
        run = stack.container_jobs.run(
            "recs-prepare", "queue", definition, {"Command": command, "Environment": variables}
        )
        assert run.succeeded, run.log_tail
        with recorded_calls() as result_calls:
            prepared = stack.invoke("PrepareFunction", {"step": "prepared_result", "job": job})
        assert prepared["executionName"] == "planned"
        # Then each of the function's calls is allowed by its statements in this stack: the lake's
        # listing, and the stored prepared job's read (given only in a stack that prepares there)
        properties = stack.template["Resources"]["PrepareFunction"]["Properties"]
        statements = statements_of(stack.resolver.resolve(properties["Policies"]))
        tables = ("ModelTable", "StateTable")
        arns = {stack.physical[t]: stack.resolver.attributes[(t, "Arn")] for t in tables}
        used: set[tuple[str, str]] = set()
        calls = plan_calls + result_calls
        assert {(service, operation) for service, operation, _ in calls} == {
            ("s3", "ListObjectsV2"),
            ("s3", "GetObject"),
        }
        for service, operation, params in calls:
            for request in requests_of(service, operation, params, arns):
                allowed = allowing(request, statements)
                assert allowed, f"{service}:{operation} needs {request}, which no statement allows"
                used.update(allowed)
        assert used == {("ListLake", "s3:ListBucket"), ("ContainerPreparedJob", "s3:GetObject")}
