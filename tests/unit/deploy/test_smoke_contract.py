"""The smoke test's contract check: docs/openapi.json's statuses and schemas."""

from __future__ import annotations

from recs_tools.checkout import repo_root
from recs_tools.deploy.smoke import Contract, Reply

ROUTE = "/api/recommendations"
VALID = {
    "products": [{"id": "sku_1", "score": 0.5, "reason": "popular"}],
    "modelVersion": "v1",
    "generatedAt": "2026-11-26T09:00:00Z",
}


def _contract() -> Contract:
    return Contract.load(repo_root() / "docs" / "openapi.json")


def test_an_answer_in_the_documented_shape_has_no_problem() -> None:
    assert _contract().problems("GET", ROUTE, Reply(200, VALID, 1.0), 200) == []


def test_a_missing_required_field_is_named() -> None:
    # Given a 200 without modelVersion
    body = {k: v for k, v in VALID.items() if k != "modelVersion"}
    # When it is checked / Then the problem names the field
    problems = _contract().problems("GET", ROUTE, Reply(200, body, 1.0), 200)
    assert len(problems) == 1
    assert "modelVersion" in problems[0]


def test_a_wrong_type_deep_in_the_body_is_located() -> None:
    body = {**VALID, "products": [{"id": "sku_1", "score": "high"}]}
    problems = _contract().problems("GET", ROUTE, Reply(200, body, 1.0), 200)
    assert problems
    assert problems[0].startswith("products/0/score")


def test_an_unexpected_status_is_reported_with_the_body() -> None:
    reply = Reply(503, {"message": "no model yet"}, 1.0)
    problems = _contract().problems("GET", ROUTE, reply, 200)
    assert problems == ['status 503, expected 200 ({"message": "no model yet"})']
