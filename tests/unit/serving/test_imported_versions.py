"""A version whose users' rows were imported into a table of their own (the pointer's
``listsTable``, ImportTable publishing): users' rows are read there, everything else in the
model table."""

from __future__ import annotations

from typing import Any

from recs.serving.experiments import Experiments
from recs.serving.repository import (
    CacheTtls,
    Control,
    ListRepository,
    Pointer,
    ReadStats,
    Want,
    _decode_control,
    _encode_control,
)
from recs.serving.service import RecommendService, ServingOptions
from recs.serving.sources import Chains
from recs.store_layout import POINTER_KEY, popular_pk, purchased_pk, user_pk
from tests.unit.serving.test_delta_versions import (
    POPULAR,
    USER,
    Items,
    Pseudonyms,
    ask,
    ids,
    row,
)
from tests.unit.serving.test_repository import Clock, FakeCache, FakeTable

VERSION, TABLE = "v3", "recs-lists-v3"
MINE: Items = [("sku_m1", 1.0, "similar-users"), ("sku_m2", 0.9, "similar-users")]
STRAY: Items = [("sku_x1", 1.0, "similar-users")]


def imported_pointer() -> dict[str, Any]:
    return {
        "pk": POINTER_KEY[0],
        "sk": POINTER_KEY[1],
        "modelVersion": VERSION,
        "generatedAt": "g",
        "baseVersion": VERSION,
        "listsTable": TABLE,
    }


def repository(models: FakeTable, tables: dict[str, FakeTable]) -> ListRepository:
    return ListRepository(
        models,
        FakeTable(),
        FakeCache(),
        ttls=CacheTtls(lists=60, optout=60, session=10, control=60),
        control_ttl_seconds=15,
        memory_entries=8,
        monotonic=Clock(),
        lists_table=tables.__getitem__,
    )


def test_the_pointers_table_reaches_serving_and_survives_the_cached_copy() -> None:
    # Given an imported version's pointer / When read, and read back from the cache's copy
    pointer = Pointer.from_row(imported_pointer())
    copy = _decode_control(_encode_control(Control(pointer, frozenset())))
    # Then both name the table; a pointer without one names none (the model table)
    assert pointer.lists_table == TABLE
    assert copy.pointer == pointer
    assert Pointer.from_row({**imported_pointer(), "listsTable": None}).lists_table == ""


def test_a_users_rows_are_read_from_the_imported_table_and_shop_wide_lists_from_the_model_table() -> None:
    # Given the model table (pointer, popular list, and a stray user row the version never
    # served from there) and the version's table with the user's list and purchases
    models = FakeTable(
        [imported_pointer(), row(popular_pk(), VERSION, POPULAR), row(user_pk("p_" + USER), VERSION, STRAY)]
    )
    lists = FakeTable(
        [
            row(user_pk("p_" + USER), VERSION, MINE),
            row(purchased_pk("p_" + USER), VERSION, [("sku_m2", 1.0, None)]),
        ]
    )
    service = RecommendService(
        repository(models, {TABLE: lists}),
        Pseudonyms(),
        chains=Chains(),
        experiments=Experiments([], Chains()),
        options=ServingOptions(
            exclude_purchased=True, session_seeds=8, session_weight=0.4, rerank_weight=0.3
        ),
    )
    # When the user asks
    outcome = ask(service)
    # Then their list comes from the imported table (its purchase filtered out), not the model table
    assert outcome.response.source == "user"
    assert ids(outcome)[0] == "sku_m1"
    assert "sku_m2" not in ids(outcome)
    assert "sku_x1" not in ids(outcome)
    # And the imported table was asked for the user's rows only
    read = {key for call in lists.calls for key in call}
    assert {pk for pk, _ in read} == {user_pk("p_" + USER), purchased_pk("p_" + USER)}


def test_the_table_is_opened_once_and_an_outage_of_it_fails_only_its_rows() -> None:
    # Given a repository whose imported table is down
    models = FakeTable([row(popular_pk(), VERSION, POPULAR)])
    lists = FakeTable()
    lists.down = True
    opened: list[str] = []

    def open_table(name: str) -> FakeTable:
        opened.append(name)
        return lists

    repo = repository(models, {})
    repo._open_lists_table = open_table
    wants = [Want.list(VERSION, popular_pk()), Want.personal_list(VERSION, user_pk("p_a"), TABLE)]
    # When fetched twice
    for _ in range(2):
        fetched = repo.fetch(wants, ReadStats())
        # Then the shop-wide list is read, the user's row is reported failed (the service falls back)
        assert fetched.get(wants[0]) == POPULAR
        assert fetched.failed == {wants[1].cache_key}
    assert opened == [TABLE]
