"""Publishing a large shop's users' rows with DynamoDB ImportTable, into a table per version.

Above `import_table_min_users` users, a run does not write its users' rows (``U#``,
``PURCHASED#``) into the model table item by item: each publish shard writes them as an import
file, and ImportTable creates the table ``<stack>-lists-<version>`` from those files (billed by
the gigabyte read, not by the write, and nothing written into the table that serves). The
workflow starts the import, checks it until it is done (a retried step), warms the new table
when asked, and the flip names the table in the pointer: serving reads users' rows there,
everything else (item lists, popular, trending, the category maps) stays in the model table.

Every such table is registered in the model table (`ModelVersions.register_lists_table`): the
erasure deletes a user's rows from each, and Cleanup deletes those that are neither serving nor
within their rollback window (`import_table_keep_days`), and those of runs that never flipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recs.ports import ListsTables
from recs.training.errors import TableImportFailedError, TableImportInProgressError
from recs.training.publish.model_versions import ModelVersions
from recs.training.workflow import TableImport

SECONDS_PER_DAY = 86_400
#: Import states that may still change (DescribeImport's ImportStatus).
_UNDER_WAY = frozenset({"IN_PROGRESS", "CANCELLING"})
#: The check step polls this often before it leaves the wait to Step Functions' Retry: a small
#: import is done within it, a large one costs a Lambda second per poll, not a minute.
_POLLS = 10
_POLL_SECONDS = 2.0


def imports_users(min_users: int, users: int) -> bool:
    """Whether a run with `users` users imports their rows into a table of its own."""
    return min_users > 0 and users >= min_users


@dataclass(frozen=True)
class RegisteredTable:
    version: str
    table: str
    created_at: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> RegisteredTable:
        return cls(str(row["version"]), str(row["table"]), int(row.get("createdAt", 0)))


def tables_to_delete(
    registered: Sequence[RegisteredTable],
    status_of: Callable[[str], str | None],
    serving: str | None,
    now: float,
    keep_days: int,
) -> list[RegisteredTable]:
    """The registered tables Cleanup deletes: never the serving one; a published version's once
    it is `keep_days` old (rollback to it is refused from then on); a version that never
    published (its run failed or was refused after the import) at once."""
    deleted = []
    for entry in registered:
        if entry.table == serving:
            continue
        published = status_of(entry.version) == "published"
        if published and entry.created_at + keep_days * SECONDS_PER_DAY > now:
            continue
        deleted.append(entry)
    return deleted


class TableImports:
    def __init__(
        self,
        tables: ListsTables,
        versions: ModelVersions,
        *,
        warm_read_units: int,
        keep_days: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.tables = tables
        self.versions = versions
        self.warm_read_units = warm_read_units
        self.keep_days = keep_days
        self._sleep = sleep

    def start(self, version: str, table: str, prefix: str, now: float) -> TableImport:
        """Register the table (before it exists: a run that dies later leaves nothing unknown),
        then start its import from the files under `prefix`. Retried, the same version starts
        the same import (its client token)."""
        self.versions.register_lists_table(version, table, int(now), "importing")
        arn = self.tables.start_import(table, prefix, token=version)
        return TableImport(table=table, importArn=arn)

    def check(self, started: TableImport) -> TableImport:
        """The import once done and the table warm; `TableImportInProgressError` while not,
        `TableImportFailedError` when it failed or was cancelled."""
        progress = self.tables.progress(started.importArn)
        for _ in range(_POLLS):
            if progress.status not in _UNDER_WAY:
                break
            self._sleep(_POLL_SECONDS)
            progress = self.tables.progress(started.importArn)
        if progress.status in ("FAILED", "CANCELLED"):
            why = progress.failure or "no reason given"
            raise TableImportFailedError(f"import into {started.table} {progress.status.lower()}: {why}")
        if progress.status != "COMPLETED":
            raise TableImportInProgressError(f"import into {started.table}: {progress.status}")
        if self.warm_read_units and not self.tables.warm(started.table, self.warm_read_units):
            raise TableImportInProgressError(f"{started.table}: warm throughput not active yet")
        return started.model_copy(update={"importedItems": progress.imported})

    def discard(self, version: str, serving: str | None) -> str | None:
        """Delete the table of a run that failed before its flip (nothing of it ever served);
        returns its name, None when the version registered none. Never the `serving` table (a
        run that failed after its pointer moved)."""
        for row in self.versions.lists_tables():
            entry = RegisteredTable.from_row(row)
            if entry.version == version and row.get("status") != "published" and entry.table != serving:
                self.tables.delete(entry.table)
                self.versions.forget_lists_table(version)
                return entry.table
        return None

    def retire(self, serving: str | None, now: float) -> list[str]:
        """Delete the tables `tables_to_delete` names, each before its registry row (so a table
        that could not be deleted stays registered, and the erasure still reaches it)."""
        registered = [RegisteredTable.from_row(row) for row in self.versions.lists_tables()]

        def status_of(version: str) -> str | None:
            meta = self.versions.meta(version)
            return str(meta["status"]) if meta and meta.get("status") else None

        deleted = []
        for entry in tables_to_delete(registered, status_of, serving, now, self.keep_days):
            self.tables.delete(entry.table)
            self.versions.forget_lists_table(entry.version)
            deleted.append(entry.table)
        return deleted
