"""Publishing by ImportTable: the threshold, the import check, and which tables Cleanup deletes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from pydantic import ValidationError

from recs.ports import ImportProgress
from recs.store_layout import LISTS_TABLES_PK, lists_table_name
from recs.training.errors import TableImportFailedError, TableImportInProgressError
from recs.training.parameters import TrainingParameters
from recs.training.publish.model_versions import ModelVersions
from recs.training.publish.table_imports import (
    RegisteredTable,
    TableImports,
    imports_users,
    tables_to_delete,
)
from recs.training.workflow import PublishPlan, TableImport
from tests.unit.privacy.fakes import MemoryTable

DAY = 86_400
NOW = 1_800_000_000.0


class FakeListsTables:
    """The `ListsTables` port in memory: imports report a scripted sequence of states."""

    def __init__(self, states: Sequence[ImportProgress], warm_after: int = 0) -> None:
        self.states = list(states)
        self.started: list[tuple[str, str, str]] = []
        self.deleted: list[str] = []
        self.warm_asks = 0
        self.warm_after = warm_after

    def import_file(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        return b""

    def start_import(self, table: str, prefix: str, token: str) -> str:
        self.started.append((table, prefix, token))
        return f"arn:{table}/import/1"

    def progress(self, import_arn: str) -> ImportProgress:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def warm(self, table: str, read_units_per_second: int) -> bool:
        self.warm_asks += 1
        return self.warm_asks > self.warm_after

    def delete(self, table: str) -> bool:
        self.deleted.append(table)
        return True

    def exists(self, table: str) -> bool:
        return table not in self.deleted

    def rows(self, table: str) -> MemoryTable:
        return MemoryTable()


def _imports(tables: FakeListsTables, model: MemoryTable | None = None, warm: int = 0) -> TableImports:
    versions = ModelVersions(model or MemoryTable())
    return TableImports(tables, versions, warm_read_units=warm, keep_days=7, sleep=lambda _: None)


STARTED = TableImport(table="recs-lists-v2", importArn="arn:recs-lists-v2/import/1")


@pytest.mark.parametrize(
    ("min_users", "users", "imports"),
    [(0, 10_000_000, False), (1_000, 999, False), (1_000, 1_000, True), (1, 5, True)],
)
def test_a_run_imports_only_at_or_above_a_set_threshold(min_users: int, users: int, imports: bool) -> None:
    # Then 0 (the default) never imports; otherwise a run with at least that many users does
    assert imports_users(min_users, users) is imports
    assert TrainingParameters().import_table_min_users == 0


def test_the_warm_throughput_is_none_or_at_least_what_a_new_table_has() -> None:
    # Then 0 and 12,000+ are accepted; a value DynamoDB would refuse names the field
    assert TrainingParameters(import_warm_read_units=12_000).import_warm_read_units == 12_000
    with pytest.raises(ValidationError, match="import_warm_read_units"):
        TrainingParameters(import_warm_read_units=500)


def test_an_import_plan_names_the_stacks_table_of_the_version_and_is_always_full() -> None:
    # Given the name a plan gets / Then it is <prefix>-<version>, a valid DynamoDB table name
    name = lists_table_name("recs-prod-lists", "v20261126T030000.123Z-1a2b3c")
    assert name == "recs-prod-lists-v20261126T030000.123Z-1a2b3c"
    plan = PublishPlan(mode="full", baseVersion="v", shards=2, importTable=name)
    assert plan.to_state()["importTable"] == name
    assert "importTable" not in PublishPlan(mode="delta", baseVersion="v", shards=2).to_state()


def test_starting_registers_the_table_before_the_import_and_uses_the_version_as_token() -> None:
    # Given the port / When an import starts
    tables, model = FakeListsTables([ImportProgress("IN_PROGRESS", 0)]), MemoryTable()
    started = _imports(tables, model).start("v2", "recs-lists-v2", "models/v2/import/", NOW)
    # Then the table is registered as importing and the import reads the version's files
    assert started.importArn == "arn:recs-lists-v2/import/1"
    assert tables.started == [("recs-lists-v2", "models/v2/import/", "v2")]
    (row,) = model.query(LISTS_TABLES_PK)
    assert (row["table"], row["status"], row["createdAt"]) == ("recs-lists-v2", "importing", int(NOW))


def test_a_check_polls_then_leaves_a_long_import_to_the_workflows_retry() -> None:
    # Given an import that stays in progress / Then the check says so with the retried error
    with pytest.raises(TableImportInProgressError):
        _imports(FakeListsTables([ImportProgress("IN_PROGRESS", 10)])).check(STARTED)


def test_a_check_returns_the_imported_count_once_the_import_is_done() -> None:
    # Given an import that completes during the check's polls
    tables = FakeListsTables([ImportProgress("IN_PROGRESS", 0), ImportProgress("COMPLETED", 134)])
    # Then the check returns it with the items it imported
    assert _imports(tables).check(STARTED).importedItems == 134


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_a_failed_or_cancelled_import_fails_the_run_with_its_reason(status: str) -> None:
    tables = FakeListsTables([ImportProgress(status, 3, "ItemValidationError bad item")])
    with pytest.raises(TableImportFailedError, match="bad item"):
        _imports(tables).check(STARTED)


def test_a_warm_throughput_asked_for_is_waited_for_before_the_flip() -> None:
    # Given a completed import and warm throughput that becomes active on the second ask
    tables = FakeListsTables([ImportProgress("COMPLETED", 5)], warm_after=1)
    imports = _imports(tables, warm=12_000)
    # Then the first check waits for it, the next one returns
    with pytest.raises(TableImportInProgressError, match="warm"):
        imports.check(STARTED)
    assert imports.check(STARTED).importedItems == 5


def _registered(version: str, days_old: float) -> RegisteredTable:
    return RegisteredTable(version, f"recs-lists-{version}", int(NOW - days_old * DAY))


def test_cleanup_keeps_the_serving_table_and_those_within_their_window_and_deletes_the_rest() -> None:
    # Given registered tables: the serving one (old, after a rollback), a published one within
    # its window, an expired published one, and a run's that never published (recent)
    registered = [
        _registered("v1", 30),
        _registered("v2", 8),
        _registered("v3", 2),
        _registered("v4", 0.1),
    ]
    status = {"v1": "published", "v2": "published", "v3": "published", "v4": "failed"}
    # When Cleanup selects
    deleted = tables_to_delete(registered, status.get, "recs-lists-v1", NOW, keep_days=7)
    # Then the expired one and the never-published one go, the serving one and the recent stay
    assert [entry.version for entry in deleted] == ["v2", "v4"]


def test_retiring_deletes_each_table_before_forgetting_it_and_a_failed_runs_table_at_once() -> None:
    # Given a model table registering an expired published table and a failed run's
    model = MemoryTable()
    versions = ModelVersions(model)
    versions.register_lists_table("v1", "recs-lists-v1", int(NOW - 9 * DAY), "published")
    versions.update_meta("v1", None, {"status": "published"})
    versions.register_lists_table("v2", "recs-lists-v2", int(NOW), "importing")
    tables = FakeListsTables([ImportProgress("COMPLETED", 0)])
    imports = TableImports(tables, versions, warm_read_units=0, keep_days=7)
    # When the failure path discards v2's table / Then it is deleted and forgotten, v1 untouched
    assert imports.discard("v2", serving=None) == "recs-lists-v2"
    assert imports.discard("v1", serving=None) is None
    # When Cleanup retires with another table serving / Then v1's goes too
    assert imports.retire("recs-lists-v3", NOW) == ["recs-lists-v1"]
    assert tables.deleted == ["recs-lists-v2", "recs-lists-v1"]
    assert model.query(LISTS_TABLES_PK) == []


def test_a_failed_runs_table_that_the_pointer_names_is_never_discarded() -> None:
    # Given a run whose pointer moved to its table before the run failed (its registry row not
    # yet marked published)
    versions = ModelVersions(MemoryTable())
    versions.register_lists_table("v2", "recs-lists-v2", int(NOW), "importing")
    tables = FakeListsTables([ImportProgress("COMPLETED", 0)])
    imports = TableImports(tables, versions, warm_read_units=0, keep_days=7)
    # When the failure path discards / Then the serving table stays, registered
    assert imports.discard("v2", serving="recs-lists-v2") is None
    assert tables.deleted == []
    assert len(versions.lists_tables()) == 1
