"""`recs_tools.deploy.smoke` against the local API server: a trained stack passes every check, a stack
without a model fails the recommendation checks and the command exits 1."""

from __future__ import annotations

import pytest

from recs_tools.deploy import smoke
from recs_tools.local.http import LocalApiServer
from recs_tools.local.stack import LocalStack
from tests.integration.training.support import ingest_shop, upload_catalog

ROUTES = {
    ("GET", "/api/recommendations"),
    ("POST", "/api/events"),
    ("PUT", "/api/users/{userId}/preferences"),
    ("GET", "/api/users/{userId}/privacy"),
    ("POST", "/api/users/{userId}/erasure"),
    ("GET", "/api/erasures/{receiptId}"),
    ("POST", "/api/users/{userId}/export"),
    ("GET", "/api/exports/{receiptId}"),
    ("POST", "/api/visitors"),
    ("GET", "/api/visitor/privacy"),
    ("PUT", "/api/visitor/preferences"),
    ("POST", "/api/visitor/erasure"),
    ("GET", "/api/visitor/erasures/{receiptId}"),
    ("POST", "/api/visitor/export"),
    ("GET", "/api/visitor/exports/{receiptId}"),
}


def test_a_trained_stack_passes_every_route_of_the_contract(
    stack: LocalStack, api: LocalApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack with events in its lake and a published model
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    assert stack.run_training()["status"] == "SUCCEEDED"
    # When the smoke test runs against its HTTP API
    code = smoke.main([api.url])
    lines = capsys.readouterr().out.splitlines()
    # Then every check passes, one PASS line per check, covering every route of the API
    assert code == 0, "\n".join(lines)
    checks = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert checks
    assert all(line.startswith("PASS") for line in checks)
    assert {(line.split()[1], line.split()[2]) for line in checks} == ROUTES
    assert lines[-1].startswith(f"{len(checks)} of {len(checks)} checks passed")


def test_a_stack_without_a_model_fails_and_exits_non_zero(
    api: LocalApiServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack where nothing was trained (recommendations answer 503)
    # When the smoke test runs read-only
    code = smoke.main([api.url, "--read-only"])
    lines = capsys.readouterr().out.splitlines()
    # Then the recommendation checks fail, naming the status, and the command exits 1
    assert code == 1
    failed = [line for line in lines if line.startswith("FAIL")]
    assert any("status 503, expected 200" in line for line in failed)
    assert any("not run" in line for line in failed)
    # And the routes that do not need a model still pass
    assert any(line.startswith("PASS") and "/api/users/{userId}/privacy" in line for line in lines)
