"""`plan_rollback`: which version a rollback serves, and when it refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from recs.store_layout import read_session_constants, session_constants_attribute
from recs_tools.deploy.rollback import RollbackError, plan_rollback

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
POINTER = {
    "pk": "CURRENT",
    "sk": "POINTER",
    "modelVersion": "v2",
    "previousVersion": "v1",
    "generatedAt": "g2",
}
PUBLISHED = {"status": "published", "generatedAt": "g1", "expiresAt": int(NOW.timestamp()) + 86400}


def test_the_previous_version_is_served_and_the_pointer_says_where_it_came_from() -> None:
    # When a rollback is planned from v2 whose previous version v1 is published and stored
    target, row = plan_rollback(POINTER, PUBLISHED, True, now=NOW, to_version=None)
    # Then v1 is served with its own generatedAt, and no previous version is left to go back to
    assert target == "v1"
    assert row["modelVersion"] == "v1"
    assert row["generatedAt"] == "g1"
    assert row["rolledBackFrom"] == "v2"
    assert row["previousVersion"] is None
    assert row["flippedAt"] == "2026-11-26T09:00:00Z"
    assert (row["pk"], row["sk"]) == ("CURRENT", "POINTER")


def test_a_named_version_wins_over_the_recorded_previous_one() -> None:
    target, row = plan_rollback(POINTER, PUBLISHED, True, now=NOW, to_version="v0")
    assert target == row["modelVersion"] == "v0"


@pytest.mark.parametrize(
    ("pointer", "meta", "has_rows", "to_version", "reason"),
    [
        (None, PUBLISHED, True, None, "nothing has been published"),
        ({**POINTER, "previousVersion": None}, PUBLISHED, True, None, "name one with --to"),
        (POINTER, PUBLISHED, True, "v2", "already the current version"),
        (POINTER, None, True, None, "unknown"),
        (POINTER, {**PUBLISHED, "status": "refused"}, True, None, "never published"),
        (POINTER, {**PUBLISHED, "expiresAt": int(NOW.timestamp()) - 1}, True, None, "expired"),
        (POINTER, PUBLISHED, False, None, "no stored lists"),
    ],
)
def test_unsafe_rollbacks_are_refused(
    pointer: dict[str, Any] | None,
    meta: dict[str, Any] | None,
    has_rows: bool,
    to_version: str | None,
    reason: str,
) -> None:
    # When the target is missing, unpublished, expired or gone / Then the plan is refused, saying why
    with pytest.raises(RollbackError, match=reason):
        plan_rollback(pointer, meta, has_rows, now=NOW, to_version=to_version)


def test_the_rolled_back_pointer_carries_the_targets_own_session_constants() -> None:
    # Given v1 whose training chose 5 seeds, and v2 serving with others
    meta = {**PUBLISHED, "chosen": json.dumps({"session_seeds": 5, "session_recency": 0.5})}
    pointer = {**POINTER, **session_constants_attribute((20, 0.0))}
    # When the rollback is planned / Then the pointer merges v1's lists as v1 chose
    _, row = plan_rollback(pointer, meta, True, now=NOW, to_version=None)
    assert read_session_constants(row) == (5, 0.5)
    # And a target that recorded none (or an unreadable choice) leaves serving's defaults
    _, row = plan_rollback(pointer, {**PUBLISHED, "chosen": "{not json"}, True, now=NOW, to_version=None)
    assert read_session_constants(row) is None
