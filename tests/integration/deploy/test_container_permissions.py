"""The training container's IAM policy (template.yaml TrainingJobRole) against what it really calls.

The local stack does not enforce IAM, so the container's entry point runs here (through the local
AWS Batch, `recs_tools.local.container`) with every AWS call recorded, and each call is then
evaluated against the job role's statements (resolved to this stack's resources): every call must
be allowed, and every statement must be needed by some call (AbortMultipartUpload aside: only a
failed multipart upload makes it). Two runs: the first version, and a second one that reads the
serving version's choice and evaluation. A stack that also prepares in the container adds
Prepare's own statements, checked the same way over two runs that read, keep and replace closed days.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from botocore.client import BaseClient

from recs.store_layout import preference_key, tombstone_key
from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.integration.deploy.test_prepare_permissions import Request, _lake_object, allowing
from tests.integration.deploy.test_prepare_permissions import _listed as listed
from tests.integration.training.support import CONTAINER_PARAMETERS, ingest_shop, upload_catalog
from tests.integration.training.test_prepare_container import PREPARE_IN_CONTAINER

#: Granted for a failure path no run here takes (an interrupted multipart upload's clean-up).
FAILURE_ONLY = {("VersionArtifacts", "s3:AbortMultipartUpload")}


@pytest.fixture
def container_stack() -> Iterator[LocalStack]:
    with LocalStack(parameter_overrides=CONTAINER_PARAMETERS, use_redis=False) as local:
        yield local


@contextmanager
def calls_of_this_thread() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every AWS API call this thread makes meanwhile: the job runs in the execution's thread,
    while the test's thread polls the execution."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call
    thread = threading.get_ident()

    def record(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if threading.get_ident() == thread:
            calls.append((self.meta.service_model.service_name, operation, params))
        return original(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", record):
        yield calls


def _requests(service: str, operation: str, params: dict[str, Any], tables: dict[str, str]) -> list[Request]:
    """What IAM authorizes for a call the training code makes (any other fails the test)."""
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in ("GetObject", "PutObject"):
            return [Request(f"s3:{operation}", f"{bucket}/{params['Key']}")]
        if operation == "HeadObject":
            return [Request("s3:GetObject", f"{bucket}/{params['Key']}")]
        if operation == "ListObjectsV2":
            return [Request("s3:ListBucket", bucket, {"s3:prefix": [params.get("Prefix", "")]})]
        if operation == "DeleteObjects":
            return [Request("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if service == "dynamodb" and operation in ("GetItem", "PutItem"):
        key = params["Key"] if operation == "GetItem" else params["Item"]
        context = {"dynamodb:LeadingKeys": [key["pk"]["S"]]}
        return [Request(f"dynamodb:{operation}", tables[params["TableName"]], context)]
    if service == "dynamodb" and operation == "Scan":
        return [Request("dynamodb:Scan", tables[params["TableName"]])]
    if service == "secretsmanager" and operation == "GetSecretValue":
        return [Request("secretsmanager:GetSecretValue", params["SecretId"])]
    raise AssertionError(
        f"the training container called {service}:{operation}, which this test does not know"
    )


@contextmanager
def calls_of_other_threads(test_thread: int) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every AWS API call meanwhile but the test thread's: Prepare reads the lake and scans the
    state table in threads of its own, started by the job (which runs in the execution's thread,
    while the test's thread polls the execution)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def record(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if threading.get_ident() != test_thread:
            calls.append((self.meta.service_model.service_name, operation, params))
        return original(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", record):
        yield calls


def _record_jobs(stack: LocalStack) -> list[tuple[str, str, dict[str, Any]]]:
    """Every AWS call the container's jobs make from now on, their worker threads' included."""
    jobs = stack.container_jobs
    calls: list[tuple[str, str, dict[str, Any]]] = []
    run_entry_point = jobs.runner
    test_thread = threading.get_ident()

    def recorded(command: list[str]) -> int:
        with calls_of_other_threads(test_thread) as made:
            status = run_entry_point(command)
        calls.extend(made)
        return status

    jobs.runner = recorded
    return calls


def _check_against_the_role(stack: LocalStack, calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Every call allowed by the job role's statements (resolved to this stack), every grant used."""
    role = stack.template["Resources"]["TrainingJobRole"]["Properties"]
    statements = [
        statement
        for policy in stack.resolver.resolve(role["Policies"])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    tables = {stack.physical[t]: stack.resolver.attributes[(t, "Arn")] for t in ("ModelTable", "StateTable")}
    used: set[tuple[str, str]] = set()
    assert calls
    for service, operation, params in calls:
        for request in _requests(service, operation, params, tables):
            allowed = allowing(request, statements)
            assert allowed, f"{service}:{operation} needs {request}, which no statement allows"
            used.update(allowed)
    granted = {(s["Sid"], action) for s in statements for action in listed(s["Action"])}
    assert used == granted - FAILURE_ONLY


def test_prepare_in_the_container_is_allowed_and_uses_every_grant_it_adds() -> None:
    # Given a stack that prepares and trains in the container; a shop, its catalog, two closed
    # days, an opt-out and an erasure tombstone (so the pseudonym key is read)
    with LocalStack(parameter_overrides=PREPARE_IN_CONTAINER, use_redis=False) as stack:
        shop = ingest_shop(stack)
        upload_catalog(stack, shop)
        day = PINNED_NOW.replace(hour=10, minute=0, second=0, microsecond=0)
        products = [str(p["id"]) for p in shop.catalog()][:4]
        _lake_object(stack, day - timedelta(days=2), "a", products[:3], first_id=0)
        _lake_object(stack, day - timedelta(days=1), "b", products[1:], first_id=10)
        for pk, sk, extra in (
            (*preference_key("u_opted_out"), {"recommendations": {"BOOL": False}}),
            (*tombstone_key("t_erased"), {}),
        ):
            stack.client("dynamodb").put_item(
                TableName=stack.physical["StateTable"], Item={"pk": {"S": pk}, "sk": {"S": sk}, **extra}
            )
        calls = _record_jobs(stack)
        # When a run prepares and trains in the container, a late object changes a kept day,
        # and the next run does it again (reading the kept days, replacing the changed one)
        assert stack.run_training()["status"] == "SUCCEEDED"
        _lake_object(stack, day - timedelta(days=1, hours=-1), "late", products[:1], first_id=30)
        assert stack.run_training()["status"] == "SUCCEEDED"
        assert [(run.command[3:], run.exit_code) for run in stack.container_jobs.runs] == [
            (["--step", "prepare"], 0),
            ([], 0),
        ] * 2
        # Then every call is allowed by the job role's statements, and every grant is used
        _check_against_the_role(stack, calls)


def test_every_call_the_container_makes_is_allowed_and_every_grant_is_used(
    container_stack: LocalStack,
) -> None:
    # Given a shop, and the container's AWS calls recorded while its entry point runs
    shop = ingest_shop(container_stack)
    upload_catalog(container_stack, shop)
    jobs = container_stack.container_jobs
    calls: list[tuple[str, str, dict[str, Any]]] = []
    run_entry_point = jobs.runner

    def recorded(command: list[str]) -> int:
        with calls_of_this_thread() as made:
            status = run_entry_point(command)
        calls.extend(made)
        return status

    jobs.runner = recorded
    # When two runs train in the container (the second reads the first's choice and evaluation)
    for _ in range(2):
        assert container_stack.run_training()["status"] == "SUCCEEDED"
    assert [run.exit_code for run in jobs.runs] == [0, 0]
    # Then every call is allowed by the job role's statements, resolved to this stack
    role = container_stack.template["Resources"]["TrainingJobRole"]["Properties"]
    statements = [
        statement
        for policy in container_stack.resolver.resolve(role["Policies"])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    tables = {
        container_stack.physical[t]: container_stack.resolver.attributes[(t, "Arn")]
        for t in ("ModelTable", "StateTable")
    }
    used: set[tuple[str, str]] = set()
    assert calls
    for service, operation, params in calls:
        for request in _requests(service, operation, params, tables):
            allowed = allowing(request, statements)
            assert allowed, f"{service}:{operation} needs {request}, which no statement allows"
            used.update(allowed)
    # And no statement grants an action the container never needs
    granted = {(s["Sid"], action) for s in statements for action in listed(s["Action"])}
    assert used == granted - FAILURE_ONLY
