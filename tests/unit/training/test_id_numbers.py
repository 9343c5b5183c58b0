"""The session numbers Prepare gives: exactly a dict's numbering in order of first appearance,
however the keys arrive, whatever the table's size, and the same from either of the builder's
paths."""

from __future__ import annotations

import numpy as np
import pytest

from recs.training.prepare.columnar import block_of, usable_of_object
from recs.training.prepare.id_numbers import IdNumbers, text_keys
from recs.training.prepare.interactions import InteractionBuilder
from tests.unit.training.conftest import NOW, EventFactory
from tests.unit.training.test_columnar import lines

END = NOW.timestamp()
START = END - 30 * 86_400


def dict_numbers(batches: list[np.ndarray]) -> list[list[int]]:
    index: dict[int, int] = {}
    return [[index.setdefault(int(key), len(index)) for key in batch] for batch in batches]


@pytest.mark.parametrize("span", [50, 2**64 - 1], ids=["many repeats", "random 64-bit keys"])
def test_numbers_follow_first_appearance_across_batches_and_growth(span: int) -> None:
    # Given batches of keys, with repeats inside and across batches, enough to grow the table
    # from its smallest size many times
    rng = np.random.default_rng(7)
    batches = [
        rng.integers(0, span, size=int(rng.integers(0, 3_000)), dtype=np.uint64, endpoint=True)
        for _ in range(120)
    ]
    # When each batch is numbered in turn
    table = IdNumbers()
    got = [table.number(batch).tolist() for batch in batches]
    # Then every number is the one dict.setdefault(key, len(dict)) gives, and the count agrees
    assert got == dict_numbers(batches)
    assert len(table) == len({int(key) for batch in batches for key in batch})


def test_extreme_keys_are_numbered_like_any_other() -> None:
    # Given 0 and the largest key among others
    table = IdNumbers()
    first = np.array([0, 2**64 - 1, 0, 1], dtype=np.uint64)
    # When numbered twice, the second time in another order with new keys among them
    again = np.array([1, 5, 2**64 - 1, 0, 5], dtype=np.uint64)
    # Then the numbers are stable and new keys continue the count
    assert table.number(first).tolist() == [0, 1, 0, 2]
    assert table.number(again).tolist() == [2, 3, 1, 0, 3]
    assert table.number(np.zeros(0, dtype=np.uint64)).tolist() == []


def test_keys_that_start_probing_at_one_slot_are_told_apart() -> None:
    # Given keys whose probes all begin at the same slot of the smallest table
    table = IdNumbers()
    start = table.first_slots(np.arange(200_000, dtype=np.uint64))
    same = np.flatnonzero(start == start[0])[:40].astype(np.uint64)
    assert same.size == 40
    # When numbered in two batches, the second repeating the first in reverse
    first = table.number(same[:25]).tolist()
    second = table.number(same[::-1]).tolist()
    # Then each key keeps its number along the shared probe chain, new ones numbered as met
    assert first == list(range(25))
    assert second == list(range(25, 40)) + list(range(24, -1, -1))


def test_long_probe_chains_are_walked_alike_in_bulk_and_one_key_at_a_time() -> None:
    # Given hundreds of keys whose probes all begin at one slot (more than the last few that go
    # one key at a time), numbered in batches that mix them with keys numbered before
    table = IdNumbers()
    start = table.first_slots(np.arange(2_000_000, dtype=np.uint64))
    same = np.flatnonzero(start == start[0])[:300].astype(np.uint64)
    assert same.size == 300
    batches = [same[:120], same[::-1][:200], same, np.concatenate([same[250:], same[:3]])]
    # When each batch is numbered / Then each key's number is a dict's
    assert [table.number(batch).tolist() for batch in batches] == dict_numbers(batches)


def test_a_smaller_most_load_keeps_the_table_emptier() -> None:
    # Given a table at most half full / When 10,000 keys are numbered / Then it has 2 to 4 slots each
    table = IdNumbers(max_load=(1, 2))
    assert table.number(np.arange(10_000, dtype=np.uint64)).tolist() == list(range(10_000))
    assert 20_000 <= table.capacity <= 40_000


def test_the_table_stays_between_a_third_and_two_thirds_full() -> None:
    # Given 10,000 distinct keys numbered in one batch, then 1,000 more one at a time
    table = IdNumbers()
    table.number(np.arange(10_000, dtype=np.uint64) * np.uint64(4096))
    # Then the table has at least 1.5 slots per key (short probes), and no more than 3
    assert 15_000 <= table.capacity <= 30_000
    for key in range(10_000, 11_000):
        table.number(np.array([key * 4096], dtype=np.uint64))
        assert 1.5 * len(table) <= table.capacity <= 3 * len(table)
    # And every key still has its number
    assert table.number(np.arange(11_000, dtype=np.uint64) * np.uint64(4096)).tolist() == list(range(11_000))


def test_text_keys_are_equal_for_equal_texts_only() -> None:
    # Given texts, two of them equal but distinct objects
    texts = ["s_1", "s_2", "".join(["s_", "1"]), ""]
    # When keyed / Then equal texts share a key and the others differ
    keys = text_keys(texts).tolist()
    assert keys[0] == keys[2]
    assert len({keys[0], keys[1], keys[3]}) == 3


def test_both_builder_paths_number_sessions_alike(make_event: EventFactory) -> None:
    # Given events of sessions repeated across two lake objects, and events without a session
    events = [
        make_event(product=f"p{n % 5}", session=None if n % 4 == 0 else f"s{n % 7}", days_ago=1 + n / 1440)
        for n in range(60)
    ]
    # When built one record at a time, and as two columnar blocks
    by_record = InteractionBuilder().add_all(events).build(start_ts=START, end_ts=END)
    columnar = InteractionBuilder()
    for half in (events[:30], events[30:]):
        columnar.add_block(block_of(usable_of_object(lines(*half))))
    by_block = columnar.build(start_ts=START, end_ts=END)
    # Then the sessions are numbered alike, in order of first appearance, and none is -1 but
    # the events without one
    assert by_record.basket.tolist() == by_block.basket.tolist()
    named = [n for n in range(60) if n % 4]
    assert sorted(set(by_record.basket.tolist()) - {-1}) == list(range(len({n % 7 for n in named})))
    assert (by_record.basket == -1).sum() == 15
