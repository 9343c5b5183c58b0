"""`plan_rollback`: which version a rollback serves, and when it refuses; `roll_back` on a table."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from recs.store_layout import (
    POINTER_KEY,
    popular_pk,
    read_session_constants,
    session_constants_attribute,
    version_meta_key,
    version_sk,
)
from recs_tools.deploy.rollback import BaseCheck, RollbackError, plan_rollback, roll_back
from tests.unit.privacy.fakes import MemoryTable

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


# ---------------------------------------------------------------------- delta versions
#: v1 published as a delta of v0 (it wrote only the users' rows that changed since v0).
DELTA = {**PUBLISHED, "baseVersion": "v0"}
BASE_STORED = BaseCheck({"status": "published", "expiresAt": int(NOW.timestamp()) + 86400}, True)


@pytest.mark.parametrize("meta", [PUBLISHED, {**PUBLISHED, "baseVersion": "v1"}], ids=["no-base", "itself"])
def test_a_full_targets_pointer_names_the_target_as_its_own_base(meta: dict[str, Any]) -> None:
    # Given v1 published full (its META names no base, or itself)
    # When the rollback is planned / Then serving reads users' rows of v1 only
    _, row = plan_rollback(POINTER, meta, True, now=NOW, to_version=None)
    assert row["baseVersion"] == "v1"


def test_a_delta_targets_pointer_carries_its_base() -> None:
    # Given v1 published as a delta of v0, whose rows are still stored
    # When the rollback is planned
    target, row = plan_rollback(POINTER, DELTA, True, now=NOW, to_version=None, base=BASE_STORED)
    # Then v1 serves, its users' missing rows read under v0
    assert (target, row["modelVersion"], row["baseVersion"]) == ("v1", "v1", "v0")


@pytest.mark.parametrize(
    ("base", "reason"),
    [
        (None, "delta of v0, which is unknown"),
        (BaseCheck(None, True), "delta of v0, which is unknown"),
        (BaseCheck({"expiresAt": int(NOW.timestamp()) - 1}, True), "delta of v0, which has expired"),
        (BaseCheck({"status": "published"}, False), "delta of v0, which has no stored lists"),
    ],
    ids=["not-read", "no-meta", "expired", "no-rows"],
)
def test_a_delta_whose_base_is_gone_is_refused(base: BaseCheck | None, reason: str) -> None:
    # Given v1 a delta of v0, whose rows are not all stored any more
    # When the rollback is planned / Then it is refused: most users' lists would be missing
    with pytest.raises(RollbackError, match=reason):
        plan_rollback(POINTER, DELTA, True, now=NOW, to_version=None, base=base)


def _table(*versions: tuple[str, str | None]) -> MemoryTable:
    """A model table whose current version is v3 (a delta of v2), and each (version, base) of
    `versions` published with its popular list."""
    table = MemoryTable()
    table.put({**POINTER, "modelVersion": "v3", "previousVersion": "v1", "baseVersion": "v2"})
    for version, base in versions:
        pk, sk = version_meta_key(version)
        table.put({"pk": pk, "sk": sk, **PUBLISHED, **({"baseVersion": base} if base else {})})
        table.put({"pk": popular_pk(), "sk": version_sk(version), "d": "[]"})
    return table


def test_rolling_back_to_a_delta_reads_its_base_and_writes_it_in_the_pointer() -> None:
    # Given the current v3 (a delta of v2), and v1 published as a delta of v0, both stored
    table = _table(("v0", None), ("v1", "v0"), ("v2", None), ("v3", "v2"))
    # When the operator rolls back to the previous version
    result = roll_back(table, now=NOW)
    # Then v1 serves with v0 as its base
    pointer = table.get(*POINTER_KEY)
    assert pointer is not None
    assert (result.to_version, pointer["modelVersion"], pointer["baseVersion"]) == ("v1", "v1", "v0")


def test_rolling_back_to_a_full_version_drops_the_current_deltas_base() -> None:
    # Given the current v3 (a delta of v2) and v1 published full
    table = _table(("v1", None), ("v2", None), ("v3", "v2"))
    # When the operator rolls back / Then v1 is its own base: v2's rows are not read any more
    roll_back(table, now=NOW)
    assert table.get(*POINTER_KEY)["baseVersion"] == "v1"  # type: ignore[index]


def test_rolling_back_to_a_delta_whose_base_expired_changes_nothing() -> None:
    # Given v1 a delta of v0, whose rows were deleted (no META, no popular list)
    table = _table(("v1", "v0"), ("v2", None), ("v3", "v2"))
    before = table.get(*POINTER_KEY)
    # When the operator rolls back / Then it is refused and the pointer stays where it was
    with pytest.raises(RollbackError, match="delta of v0"):
        roll_back(table, now=NOW)
    assert table.get(*POINTER_KEY) == before


def test_a_delta_with_no_users_rows_of_its_own_can_be_rolled_back_to() -> None:
    # Given v1 a delta of v0 that wrote no user's row at all (nobody's list changed): only its
    # shop-wide lists are stored under v1, the users' under v0
    table = _table(("v0", None), ("v1", "v0"), ("v2", None), ("v3", "v2"))
    assert not [key for key in table.items if key[0].startswith("U#")]
    # When a dry run checks it / Then it would serve v1 over v0, changing nothing yet
    result = roll_back(table, dry_run=True, now=NOW)
    assert (result.to_version, result.pointer["baseVersion"], result.applied) == ("v1", "v0", False)
    assert table.get(*POINTER_KEY)["modelVersion"] == "v3"  # type: ignore[index]


IMPORTED = {**PUBLISHED, "listsTable": "recs-lists-v1"}


def test_rolling_back_to_an_imported_version_names_its_table_while_it_exists() -> None:
    # When the target's users' rows were imported into a table that still exists
    _, row = plan_rollback(POINTER, IMPORTED, True, now=NOW, to_version=None, lists_table_exists=True)
    # Then the new pointer names that table (serving reads users' rows there)
    assert row["listsTable"] == "recs-lists-v1"
    # And a target that wrote its rows into the model table gets no table in its pointer
    _, plain = plan_rollback(POINTER, PUBLISHED, True, now=NOW, to_version=None, lists_table_exists=True)
    assert "listsTable" not in plain


def test_rolling_back_to_an_imported_version_whose_table_was_deleted_changes_nothing() -> None:
    # Given a model table whose previous version's imported table is gone
    table = MemoryTable()
    table.put(POINTER)
    table.put({"pk": version_meta_key("v1")[0], "sk": "META", **IMPORTED})
    table.put({"pk": popular_pk(), "sk": version_sk("v1"), "d": "[]"})
    # When the rollback is asked for / Then it is refused naming the table, and the pointer stays
    with pytest.raises(RollbackError, match="recs-lists-v1, which has been deleted"):
        roll_back(table, now=NOW, table_exists=lambda name: False)
    assert table.get(*POINTER_KEY) == POINTER
    # And with the table there, the pointer names it
    done = roll_back(table, now=NOW, table_exists=lambda name: name == "recs-lists-v1")
    assert done.pointer["listsTable"] == "recs-lists-v1"
    assert table.get(*POINTER_KEY)["listsTable"] == "recs-lists-v1"  # type: ignore[index]
