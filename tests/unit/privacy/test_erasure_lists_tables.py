"""The erasure reaches a user's rows in every registered per-version table (ImportTable
publishing), and never skips a published one it cannot read."""

from __future__ import annotations

import pytest

from recs.errors import StoreUnavailableError
from recs.privacy.erasure import LiveData
from recs.store_layout import cache_key, lists_table_key, purchased_pk, user_pk, version_sk
from tests.unit.privacy.fakes import MemoryCache, MemoryTable

USER, OTHER = "p_alice", "p_bob"


def _row(pk: str, version: str) -> dict[str, str]:
    return {"pk": pk, "sk": version_sk(version), "d": "[]"}


def _register(models: MemoryTable, version: str, status: str) -> None:
    pk, sk = lists_table_key(version)
    models.put({"pk": pk, "sk": sk, "version": version, "table": f"lists-{version}", "status": status})


@pytest.fixture
def world() -> tuple[MemoryTable, dict[str, MemoryTable], MemoryCache]:
    """A model table with an old version's row of the user, two registered tables (v2, v3) with
    the user's and another user's rows, and the user's row cached under v3."""
    models = MemoryTable()
    models.put(_row(user_pk(USER), "v1"))
    tables = {f"lists-{v}": MemoryTable() for v in ("v2", "v3")}
    for version in ("v2", "v3"):
        _register(models, version, "published")
        for pk in (user_pk(USER), purchased_pk(USER), user_pk(OTHER)):
            tables[f"lists-{version}"].put(_row(pk, version))
    cache = MemoryCache()
    cache.values[cache_key("v3", user_pk(USER))] = b"[]"
    return models, tables, cache


def test_a_users_rows_go_from_the_model_table_and_every_registered_table(
    world: tuple[MemoryTable, dict[str, MemoryTable], MemoryCache],
) -> None:
    # Given the user's rows in three places / When the user opts out (or is erased)
    models, tables, cache = world
    removed = LiveData(models, MemoryTable(), cache, tables.__getitem__).drop_personal_lists(USER)
    # Then every one of them is gone and counted, the cached copy too, the other user's stay
    assert removed.model_rows == 5
    assert not [key for key in models.items if key[0] == user_pk(USER)]
    for table in tables.values():
        assert [pk for pk, _ in table.items] == [user_pk(OTHER)]
    assert cache_key("v3", user_pk(USER)) not in cache.values


def test_a_published_table_that_cannot_be_read_fails_the_erasure(
    world: tuple[MemoryTable, dict[str, MemoryTable], MemoryCache],
) -> None:
    # Given a registered published table that is throttled / Then the erasure fails (and is retried)
    models, tables, cache = world
    tables["lists-v2"].fail_on.add("query")
    with pytest.raises(StoreUnavailableError):
        LiveData(models, MemoryTable(), cache, tables.__getitem__).drop_personal_lists(USER)


def test_a_table_still_being_imported_is_skipped_when_it_cannot_be_read(
    world: tuple[MemoryTable, dict[str, MemoryTable], MemoryCache],
) -> None:
    # Given a run's table registered while its import runs, not created yet (unreadable)
    models, tables, cache = world
    _register(models, "v4", "importing")
    tables["lists-v4"] = MemoryTable()
    tables["lists-v4"].fail_on.add("query")
    # When the user is erased / Then the live tables are cleared and the erasure succeeds
    removed = LiveData(models, MemoryTable(), cache, tables.__getitem__).drop_personal_lists(USER)
    assert removed.model_rows == 5


def test_without_a_table_opener_only_the_model_table_is_reached() -> None:
    # Given a function wired without per-version tables / Then it works as before
    models = MemoryTable()
    models.put(_row(user_pk(USER), "v1"))
    _register(models, "v2", "published")
    assert LiveData(models, MemoryTable(), MemoryCache()).drop_personal_lists(USER).model_rows == 1
