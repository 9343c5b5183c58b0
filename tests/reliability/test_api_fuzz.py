"""schemathesis against docs/openapi.json on the local API of a trained stack (bounded and
derandomized; `make reliability` runs the same fuzzer with more examples)."""

from __future__ import annotations

import json

from bench.reliability.fuzz import SPEC, fuzz, problem_named
from bench.reliability.world import TrainedWorld

EXAMPLES_PER_OPERATION = 15


def _operations_in_spec() -> int:
    paths = json.loads(SPEC.read_text(encoding="utf-8"))["paths"]
    return sum(len(item) for item in paths.values())


def test_generated_requests_get_no_server_error_and_answers_the_spec_documents(world: TrainedWorld) -> None:
    # Given a trained stack behind the local API
    # When schemathesis sends valid and invalid requests generated from the committed spec
    report = fuzz(world.api.url, max_examples=EXAMPLES_PER_OPERATION)
    # Then it really sent requests to every operation, with both outcomes represented
    assert report.requests >= EXAMPLES_PER_OPERATION * 5
    assert len(report.by_operation) == _operations_in_spec() + 1  # and every method none declares
    admin = [counts for label, counts in report.by_operation.items() if "/api/admin/" in label]
    assert len(admin) == 5
    # And the admin routes' requests reached the function (not only the gateway's 403)
    assert all(set(counts) - {403} for counts in admin)
    assert sum(report.by_operation["undeclared methods"].values()) > 20
    assert any(status < 300 for status in report.statuses)
    assert any(400 <= status < 500 for status in report.statuses)
    # And no answer was a 5xx, undocumented, off-schema, or a 4xx without a named problem
    assert report.server_errors == 0
    assert report.failures == []


def test_the_4xx_body_check_rejects_a_body_that_names_nothing() -> None:
    # Given 4xx responses without a message, or a 400 without the bad field
    # When the fuzzer's body check reads them / Then each is reported, and a good one is not
    assert problem_named(404, b'{"detail": "x"}') == "4xx body has no message"
    assert problem_named(400, b'{"message": "bad"}') == "400 body does not name the bad field"
    assert problem_named(405, b"<html>") == "4xx body is not JSON"
    good = b'{"message": "invalid request", "errors": [{"field": "limit", "reason": "too big"}]}'
    assert problem_named(400, good) is None
    assert problem_named(200, b"") is None
