"""A visitor's data in the live stores (model table, state table, cache), removed at once.

Used when a shopper opts out (their personal lists and session), when they ask for erasure
(everything keyed by their pseudonym) and again by the purge for every erased pseudonym it
finds, which also catches rows a training run published after the request. Every operation is
idempotent: removing what is already gone removes nothing and fails nothing.

A large shop's versions keep their users' rows in tables of their own (ImportTable:
`recs.training.publish.table_imports`), registered in the model table: a user's rows are removed
from every registered table too. A published table that cannot be read fails the operation
(the caller answers 503 and the purge retries), so no serving table is skipped in silence; a
table still being imported may not exist yet and is skipped when it cannot be read (the run's
flip deletes the rows of visitors erased meanwhile before anything of it serves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from recs.errors import StoreUnavailableError
from recs.ports import Cache, KeyValueTable
from recs.privacy.exports import ExportErasure
from recs.privacy.receipts import Removed
from recs.store_layout import (
    LISTS_TABLES_PK,
    cache_key,
    optout_cache_key,
    preference_key,
    purchased_pk,
    session_cache_key,
    session_key,
    user_pk,
)


class CountingCache(Cache, Protocol):
    """The cache, with its fault counter (the Redis adapter swallows faults and counts them)."""

    @property
    def errors(self) -> int: ...


class LiveData:
    """Rows and cache entries keyed by a visitor's pseudonym."""

    def __init__(
        self,
        model_table: KeyValueTable,
        state_table: KeyValueTable,
        cache: CountingCache,
        lists_table: Callable[[str], KeyValueTable] | None = None,
        exports: ExportErasure | None = None,
    ) -> None:
        self._models = model_table
        self._state = state_table
        self._cache = cache
        #: Opens a registered per-version table by name (None: this function never reaches one).
        self._open_lists_table = lists_table
        self._exports = exports

    def _personal_tables(self) -> list[tuple[KeyValueTable, bool]]:
        """The model table and every registered per-version table, each with whether it may be
        skipped when it cannot be read (a table whose import has not finished)."""
        tables: list[tuple[KeyValueTable, bool]] = [(self._models, False)]
        if self._open_lists_table is not None:
            for row in self._models.query(LISTS_TABLES_PK):
                importing = row.get("status") == "importing"
                tables.append((self._open_lists_table(str(row["table"])), importing))
        return tables

    @staticmethod
    def _user_keys(table: KeyValueTable, user: str, skippable: bool) -> list[tuple[str, str]]:
        try:
            return [
                (str(row["pk"]), str(row["sk"]))
                for pk in (user_pk(user), purchased_pk(user))
                for row in table.query(pk)
            ]
        except StoreUnavailableError:
            if skippable:
                return []
            raise

    def drop_personal_lists(self, user: str) -> Removed:
        """The user's lists of every version (``U#``, ``PURCHASED#``) in the model table and in
        every per-version table, cached copies included, and their session signal: what
        personalizes their results."""
        removed = Removed()
        keys: list[tuple[str, str]] = []
        for table, skippable in self._personal_tables():
            found = self._user_keys(table, user, skippable)
            if found:
                removed.model_rows += table.delete_many(found)
            keys += found
        removed.state_rows += self._delete_existing(self._state, [session_key(user)])
        exact = [cache_key(sk.removeprefix("V#"), pk) for pk, sk in keys] + [session_cache_key(user)]
        removed.cache_keys += self._cache.delete(exact)
        return removed

    def erase_user(self, user: str) -> Removed:
        """Everything keyed by a user's pseudonym: lists, purchases, preference, session, and their
        data exports (objects and receipts)."""
        removed = self.drop_personal_lists(user)
        self._erase_exports(user, removed)
        removed.state_rows += self._delete_existing(self._state, [preference_key(user)])
        removed.cache_keys += self._cache.delete([optout_cache_key(user)])
        # Every other version's cached copy too, including the "absent" markers serving keeps for
        # versions without a row: their keys name the pseudonym. One SCAN of the keyspace.
        removed.cache_keys += self._cache.delete_pattern(f"recs:*#{user}")
        return removed

    def erase_anonymous(self, visitor: str) -> Removed:
        """An anonymous visitor's live data: their session signal, their preference (an opt-out
        made with a signed anonymous id), any list a run published under the pseudonym and their
        data exports (made with the signed id)."""
        removed = self.drop_personal_lists(visitor)
        self._erase_exports(visitor, removed)
        removed.state_rows += self._delete_existing(self._state, [preference_key(visitor)])
        removed.cache_keys += self._cache.delete([optout_cache_key(visitor)])
        return removed

    def _erase_exports(self, pseudonym: str, removed: Removed) -> None:
        if self._exports is not None:
            exports = self._exports.erase(pseudonym)
            removed.export_objects += exports.objects
            removed.state_rows += exports.rows

    @staticmethod
    def _delete_existing(table: KeyValueTable, keys: list[tuple[str, str]]) -> int:
        found = [key for key, row in zip(keys, table.get_many(keys), strict=True) if row is not None]
        return table.delete_many(found) if found else 0
