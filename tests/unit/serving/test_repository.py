"""ListRepository: memory, then one cache MGET, then one BatchGetItem per table, with refill."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from recs.errors import StoreUnavailableError
from recs.serving.repository import CacheTtls, ListRepository, ReadStats, Want
from recs.store_layout import (
    AVAILABILITY_KEY,
    CONTROL_CACHE_KEY,
    POINTER_KEY,
    availability_rows,
    encode_items,
    popular_pk,
    similar_pk,
    user_pk,
    version_sk,
)

TTLS = CacheTtls(lists=86_400, optout=600, session=10, control=604_800)
ITEMS = [("sku_1", 1.0, "popular"), ("sku_2", 0.5, "popular")]


class FakeTable:
    """An in-memory table that counts calls and can be made to fail."""

    def __init__(self, rows: Sequence[Mapping[str, Any]] = ()) -> None:
        self.rows = {(r["pk"], r["sk"]): dict(r) for r in rows}
        self.calls: list[list[tuple[str, str]]] = []
        self.down = False

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.get_many([(pk, sk)])[0]

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        self.calls.append(list(keys))
        if self.down:
            raise StoreUnavailableError("down")
        return [self.rows.get(key) for key in keys]


class FakeCache:
    """An in-memory cache that counts round trips and records TTLs."""

    enabled = True

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.ttls: dict[str, int] = {}
        self.round_trips = 0
        self.errors = 0
        self.down = False
        self.writes_fail = False
        self.breaker_open = False

    def _fails(self, failing: bool) -> bool:
        """Like the adapter: a fault opens the breaker, and calls while it is open are skipped
        without another error."""
        if self.breaker_open:
            return True
        if failing:
            self.errors += 1
            self.breaker_open = True
        return failing

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        self.round_trips += 1
        if self._fails(self.down):
            return [None] * len(keys)
        return [self.values.get(k) for k in keys]

    def set_many_ttl(self, values: Mapping[str, tuple[bytes, int]]) -> None:
        self.round_trips += 1
        if self._fails(self.down or self.writes_fail):
            return
        for key, (value, ttl) in values.items():
            self.values[key], self.ttls[key] = value, ttl


def pointer_row(version: str = "v1") -> dict[str, Any]:
    return {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": version, "generatedAt": "g"}


def list_row(pk: str, items: Any = ITEMS, version: str = "v1") -> dict[str, Any]:
    return {"pk": pk, "sk": version_sk(version), "d": encode_items(items)}


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def make(
    models: FakeTable,
    state: FakeTable | None = None,
    cache: FakeCache | None = None,
    clock: Clock | None = None,
) -> tuple[ListRepository, FakeCache]:
    cache = cache or FakeCache()
    repo = ListRepository(
        models,
        state or FakeTable(),
        cache,
        ttls=TTLS,
        control_ttl_seconds=15,
        memory_entries=2,
        monotonic=clock or Clock(),
    )
    return repo, cache


def test_a_cold_fetch_reads_each_tier_once_and_refills_the_cache_with_each_kinds_ttl() -> None:
    # Given a popular list, a missing similar list, a user with no preference row and a session
    models = FakeTable([list_row(popular_pk())])
    state = FakeTable([{"pk": "SESSION#a_1", "sk": "RECENT", "d": json.dumps([["sku_9", "view", "t"]])}])
    repo, cache = make(models, state)
    wants = [
        Want.list("v1", popular_pk()),
        Want.list("v1", similar_pk("x")),
        Want.optout("u_1"),
        Want.session("a_1"),
    ]
    stats = ReadStats()
    # When fetched
    fetched = repo.fetch(wants, stats)
    # Then one MGET, one BatchGetItem per table, one refill pipeline
    assert (stats.cache_round_trips, stats.store_reads, cache.round_trips) == (1, 2, 2)
    assert len(models.calls) == len(state.calls) == 1
    assert fetched.get(wants[0]) == ITEMS
    assert fetched.get(wants[1]) is None
    assert fetched.get(wants[2]) is False
    assert fetched.get(wants[3]) == [("sku_9", "view", "t")]
    # and every kind is cached for its own lifetime, absent lists as negative entries
    assert [cache.ttls[w.cache_key] for w in wants] == [86_400, 86_400, 600, 10]
    assert cache.values[wants[1].cache_key] == b"-"


def test_a_warm_fetch_is_one_cache_round_trip_and_no_store_read() -> None:
    # Given a user's list and opt-out flag fetched once, so both are now in the cache
    models = FakeTable([list_row(user_pk("u_1"))])
    repo, _ = make(models)
    wants = [Want.personal_list("v1", user_pk("u_1")), Want.optout("u_1")]
    repo.fetch(wants, ReadStats())
    # When they are fetched again
    stats = ReadStats()
    fetched = repo.fetch(wants, stats)
    # Then one cache round trip answers both, with no store read
    assert (stats.cache_round_trips, stats.cache_hits, stats.store_reads) == (1, 2, 0)
    # and the stored list comes back, logged as a cache "hit"
    assert fetched.get(wants[0]) == ITEMS
    assert stats.cache_outcome == "hit"


def test_non_personal_lists_are_held_in_memory_but_user_lists_never_are() -> None:
    # Given a popular list and a user's list, both fetched once
    models = FakeTable([list_row(popular_pk()), list_row(user_pk("u_1"))])
    repo, _ = make(models)
    popular, user = Want.list("v1", popular_pk()), Want.personal_list("v1", user_pk("u_1"))
    repo.fetch([popular, user], ReadStats())
    # When both are fetched again
    stats = ReadStats()
    repo.fetch([popular, user], stats)
    # Then the popular list comes from memory, and the user's list from the cache
    assert (stats.memory_hits, stats.cache_hits) == (1, 1)


def test_memory_is_bounded_least_recently_used_first() -> None:
    # Given memory for two lists, and three category popular lists fetched in the order a, b, a, c
    models = FakeTable([list_row(popular_pk(c)) for c in "abc"])
    repo, _ = make(models)
    a, b, c = (Want.list("v1", popular_pk(x)) for x in "abc")
    for want in (a, b, a, c):  # memory holds 2: b is the least recently used when c arrives
        repo.fetch([want], ReadStats())
    # When the two most recently used (a and c) are fetched again
    stats = ReadStats()
    repo.fetch([a, c], stats)
    # Then both come from memory
    assert stats.memory_hits == 2
    # When the least recently used (b) is fetched again
    stats = ReadStats()
    repo.fetch([b], stats)
    # Then it does not come from memory: it was evicted when c arrived
    assert stats.memory_hits == 0


def test_a_store_fault_is_reported_as_failed_and_nothing_is_cached() -> None:
    # Given a popular list in a model table that is down
    models = FakeTable([list_row(popular_pk())])
    models.down = True
    repo, cache = make(models)
    want = Want.list("v1", popular_pk())
    # When the list is fetched
    stats = ReadStats()
    fetched = repo.fetch([want], stats)
    # Then it is reported as failed, the store error is counted and nothing is written to the cache
    assert want.cache_key in fetched.failed
    assert stats.store_errors == 1
    assert want.cache_key not in cache.values
    # When the store recovers
    # Then the next fetch reads the list from it
    models.down = False
    assert repo.fetch([want], ReadStats()).get(want) == ITEMS  # not remembered as absent


def test_a_cache_fault_is_counted_and_the_store_answers() -> None:
    # Given a popular list in the model table and a cache that is down
    models = FakeTable([list_row(popular_pk())])
    cache = FakeCache()
    cache.down = True
    repo, _ = make(models, cache=cache)
    # When the list is fetched
    stats = ReadStats()
    fetched = repo.fetch([Want.list("v1", popular_pk())], stats)
    # Then the store answers
    assert fetched.get(Want.list("v1", popular_pk())) == ITEMS
    # and the cache fault is counted, logged as the cache outcome "error"
    assert (stats.cache_errors, stats.cache_outcome) == (1, "error")


def test_a_zero_session_ttl_reads_the_session_from_the_store_every_time() -> None:
    # Given a repository whose session cache TTL is 0
    state = FakeTable()
    repo = ListRepository(
        FakeTable(), state, FakeCache(), ttls=CacheTtls(1, 1, 0, 1), control_ttl_seconds=1, memory_entries=1
    )
    # When a visitor's session is fetched twice
    for _ in range(2):
        repo.fetch([Want.session("a_1")], ReadStats())
    # Then the state table is read both times: the session is never cached
    assert len(state.calls) == 2


def test_the_pointer_and_availability_are_held_for_their_ttl() -> None:
    # Given a pointer to v1 and sku_2 marked unavailable, held for 15 seconds
    models = FakeTable([pointer_row(), *availability_rows(["sku_2"], "t")])
    clock = Clock()
    repo, _ = make(models, clock=clock)
    # When they are first read
    control = repo.control(ReadStats())
    # Then they give v1 and the unavailable sku_2
    assert control.pointer is not None
    assert (control.pointer.version, control.unavailable) == ("v1", frozenset({"sku_2"}))
    # When the pointer then flips to v2
    models.rows[POINTER_KEY] = pointer_row("v2")
    # Then 10 seconds later the held v1 still serves
    clock.now += 10
    assert repo.control(ReadStats()).pointer.version == "v1"  # type: ignore[union-attr]
    # and 20 seconds later, past the TTL, v2 is read
    clock.now += 10
    assert repo.control(ReadStats()).pointer.version == "v2"  # type: ignore[union-attr]
    # and the availability row was read in the same call as the pointer
    assert AVAILABILITY_KEY in models.calls[0]


def test_a_long_availability_list_is_read_whole_and_never_half_written() -> None:
    # Given a pointer and sku_2 unavailable, read once
    models = FakeTable([pointer_row(), *availability_rows(["sku_2"], "2026-03-02T12:00:00Z")])
    clock = Clock()
    repo, _ = make(models, clock=clock)
    assert repo.control(ReadStats()).unavailable == frozenset({"sku_2"})
    # When a long list (200,000 sold-out products, in parts) replaces it, the main row written
    # before its parts (training writes them in parallel batches)
    sold_out = ["sku_" + hashlib.sha1(str(n).encode()).hexdigest()[:16] for n in range(200_000)]
    *parts, main = availability_rows(sold_out, "2026-03-02T12:00:00Z")
    assert parts
    models.rows[AVAILABILITY_KEY] = main
    clock.now += 60
    # Then the list it had keeps serving until the parts are there
    assert repo.control(ReadStats()).unavailable == frozenset({"sku_2"})
    # And once they are, the next refresh reads the whole list, in one more read
    models.rows.update({(p["pk"], p["sk"]): p for p in parts})
    clock.now += 60
    stats = ReadStats()
    assert repo.control(stats).unavailable == frozenset(sold_out)
    assert stats.store_reads == 2
    # And later refreshes of the same content read the main row only, not its parts again
    clock.now += 60
    stats = ReadStats()
    assert repo.control(stats).unavailable == frozenset(sold_out)
    assert stats.store_reads == 1


def test_when_the_store_fails_the_last_known_pointer_keeps_serving() -> None:
    # Given a pointer to v1 already read
    models = FakeTable([pointer_row()])
    clock = Clock()
    repo, _ = make(models, clock=clock)
    repo.control(ReadStats())
    # When the store is down once the pointer's TTL has passed
    models.down = True
    clock.now += 60
    stats = ReadStats()
    # Then the last known v1 keeps serving and the store error is counted
    assert repo.control(stats).pointer.version == "v1"  # type: ignore[union-attr]
    assert stats.store_errors == 1
    # and a request a second later does not ask the store again
    calls = len(models.calls)
    clock.now += 1
    repo.control(ReadStats())
    assert len(models.calls) == calls  # not retried on every request


def test_a_fresh_container_reads_the_pointer_copy_from_the_cache_when_the_store_fails() -> None:
    # Given one container read the pointer (and left its copy in the shared cache)
    models = FakeTable([pointer_row(), *availability_rows(["sku_2"], "t")])
    cache = FakeCache()
    make(models, cache=cache)[0].control(ReadStats())
    assert CONTROL_CACHE_KEY in cache.values
    # When a new container starts while DynamoDB is down
    models.down = True
    control = make(models, cache=cache)[0].control(ReadStats())
    # Then it serves the same version and availability
    assert control.pointer is not None
    assert (control.pointer.version, control.unavailable) == ("v1", frozenset({"sku_2"}))


@pytest.mark.parametrize("cached", [False, True])
def test_without_any_pointer_there_is_no_version(cached: bool) -> None:
    # Given no pointer anywhere: an empty model table, or (cached=True) a model table
    # that is down and a cache holding no copy of the pointer
    models = FakeTable()
    models.down = cached
    repo, _ = make(models)
    # When the control rows are read
    # Then there is no pointer, so no version to serve
    assert repo.control(ReadStats()).pointer is None


def test_a_refill_that_fails_is_counted_as_a_cache_error() -> None:
    # Given a cache that answers reads (a miss) but whose writes time out, as a cache that froze
    # between the MGET and the refill does
    models = FakeTable([list_row(popular_pk())])
    cache = FakeCache()
    cache.writes_fail = True
    repo, _ = make(models, cache=cache)
    # When a list is fetched (a miss, read from the store, then refilled)
    stats = ReadStats()
    fetched = repo.fetch([Want.list("v1", popular_pk())], stats)
    # Then the store answers and the failed refill is counted
    assert fetched.get(Want.list("v1", popular_pk())) == ITEMS
    assert (stats.cache_misses, stats.cache_errors) == (1, 1)
