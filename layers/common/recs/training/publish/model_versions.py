"""The model table as training writes it: version rows, each version's META row and the pointer.

Serving reads the same table through `recs.serving.repository`; this is its write side, the one
place where training builds those rows' keys and shapes (`recs.store_layout` holds the key layout
both sides share). A version's rows are written under its own sort key, so nothing a run writes
is visible before `flip` moves the pointer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from recs.ports import KeyValueTable
from recs.store_layout import (
    LISTS_TABLE_ATTRIBUTE,
    LISTS_TABLES_PK,
    POINTER_KEY,
    lists_table_key,
    session_constants,
    version_meta_key,
)


class ModelVersions:
    def __init__(self, table: KeyValueTable) -> None:
        self.table = table

    # ------------------------------------------------------------------ reads
    def pointer(self) -> dict[str, Any] | None:
        """The pointer row: which version serves (None before the first flip)."""
        return self.table.get(*POINTER_KEY)

    def current_meta(self) -> dict[str, Any] | None:
        """The serving version's META row."""
        pointer = self.pointer()
        return self.table.get(*version_meta_key(str(pointer["modelVersion"]))) if pointer else None

    def current_json(self, attribute: str) -> Any:
        """One JSON attribute of the serving version's META row (None when absent)."""
        meta = self.current_meta()
        if not meta or attribute not in meta:
            return None
        return json.loads(str(meta[attribute]))

    def read_rows(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        return self.table.get_many(list(keys))

    def meta(self, version: str) -> dict[str, Any] | None:
        return self.table.get(*version_meta_key(version))

    def renew(self, keys: Sequence[tuple[str, str]], expires_at: int, chunk: int = 5_000) -> int:
        """Write the rows at `keys` back with a later `expiresAt`; absent rows stay absent.
        Returns how many were renewed. Chunked, so memory stays flat for a large shop."""
        renewed = 0
        for start in range(0, len(keys), chunk):
            rows = [row for row in self.table.get_many(list(keys[start : start + chunk])) if row]
            renewed += self.table.put_many([{**row, "expiresAt": expires_at} for row in rows])
        return renewed

    # ------------------------------------------------------------------ writes
    def update_meta(self, version: str, expires_at: int | None, attributes: Mapping[str, Any]) -> None:
        """Merge attributes into a version's META row (one writer per version at a time); an
        attribute given as None is left as it was."""
        pk, sk = version_meta_key(version)
        row = self.table.get(pk, sk) or {"pk": pk, "sk": sk}
        row.update({k: v for k, v in attributes.items() if v is not None})
        if expires_at is not None:
            row["expiresAt"] = expires_at
        self.table.put(row)

    def put_rows(self, rows: Sequence[dict[str, Any]]) -> int:
        """Write a shard's rows; returns how many were stored."""
        return self.table.put_many(list(rows))

    def delete_rows(self, keys: Sequence[tuple[str, str]]) -> None:
        self.table.delete_many(list(keys))

    def flip(
        self,
        version: str,
        generated_at: str,
        flipped_at: str,
        chosen: Mapping[str, Any] | None = None,
        *,
        base_version: str | None = None,
        lists_table: str | None = None,
    ) -> str | None:
        """Point serving at `version`, its personal and its shop-wide lists alike, with the session
        constants of its ``chosen`` parameters and, for a delta, the base whose rows serve the users
        it did not write (``baseVersion``) and, when its users' rows were imported into a table of
        their own, that table (``listsTable``); returns the version that served until now."""
        previous = self.pointer()
        previous_version = str(previous["modelVersion"]) if previous else None
        row = _pointer_row(version, generated_at, flipped_at, previous_version)
        row["baseVersion"] = base_version or version
        if lists_table:
            row[LISTS_TABLE_ATTRIBUTE] = lists_table
        self.table.put({**row, **session_constants(chosen)})
        return previous_version

    # ------------------------------------------------------------------ per-version lists tables
    def register_lists_table(self, version: str, table: str, created_at: int, status: str) -> None:
        """Record (or update) the table a version's users' rows are imported into: the erasure
        deletes from every registered table, Cleanup deletes the expired ones."""
        pk, sk = lists_table_key(version)
        row = {"version": version, "table": table, "createdAt": created_at, "status": status}
        self.table.put({"pk": pk, "sk": sk, **row})

    def lists_tables(self) -> list[dict[str, Any]]:
        """The registered per-version tables (oldest version first)."""
        return self.table.query(LISTS_TABLES_PK)

    def forget_lists_table(self, version: str) -> None:
        self.table.delete_many([lists_table_key(version)])

    def refresh_lists(self, version: str, generated_at: str, refreshed_at: str) -> bool:
        """Serve `version`'s shop-wide lists (popular, trending, per category, the catalog map)
        while personal lists stay with the version that last passed the gate. With no version
        serving yet (a new shop), `version` becomes the serving one: personal requests then fall
        back to its shop-wide lists. Returns whether it bootstrapped the pointer."""
        current = self.pointer()
        if current is None:
            self.table.put({**_pointer_row(version, generated_at, refreshed_at, None), "listsOnly": True})
            return True
        self.table.put(
            {
                **current,
                "listsVersion": version,
                "listsGeneratedAt": generated_at,
                "listsRefreshedAt": refreshed_at,
            }
        )
        return False


def _pointer_row(version: str, generated_at: str, flipped_at: str, previous: str | None) -> dict[str, Any]:
    """The pointer naming `version` for personal and shop-wide lists alike."""
    return {
        "pk": POINTER_KEY[0],
        "sk": POINTER_KEY[1],
        "modelVersion": version,
        "generatedAt": generated_at,
        "listsVersion": version,
        "listsGeneratedAt": generated_at,
        "previousVersion": previous,
        "flippedAt": flipped_at,
    }
