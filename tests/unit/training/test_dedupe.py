"""The 64-bit eventId keys and the first copy of each: exact for repeats anywhere in the window,
and collisions only where both halves of two ids differ, handled as the module says."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest

from recs.training.prepare import dedupe
from recs.training.prepare.columnar import block_of, usable_of_object
from recs.training.prepare.dedupe import event_key, event_keys, first_copies
from recs.training.prepare.interactions import InteractionBuilder, event_id_halves
from tests.unit.training.conftest import NOW, EventFactory
from tests.unit.training.test_columnar import assert_same, lines, old_path, shop_records

END = NOW.timestamp()
START = END - 30 * 86_400


def reference_first_copies(keys: list[int]) -> list[bool]:
    seen: set[int] = set()
    first = []
    for key in keys:
        first.append(key not in seen)
        seen.add(key)
    return first


def test_the_key_of_one_id_is_the_key_of_the_same_id_among_many() -> None:
    # Given ids' halves, random and extreme / When keyed one by one and all at once / Then alike
    rng = random.Random(4)
    pairs = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(200)]
    pairs += [(0, 0), (0, 1), (1, 0), (2**64 - 1, 2**64 - 1)]
    high = np.array([h for h, _ in pairs], dtype=np.uint64)
    low = np.array([lo for _, lo in pairs], dtype=np.uint64)
    assert event_keys(high, low).tolist() == [event_key(h, lo) for h, lo in pairs]


def test_ids_that_share_either_half_never_collide() -> None:
    # Given ids counting up in their low half (as uuid.UUID(int=n)) and in their high half
    n = 1 << 16
    counting = np.arange(n, dtype=np.uint64)
    fixed = np.full(n, 0x1234_5678_9ABC_DEF0, dtype=np.uint64)
    # When keyed / Then every key is distinct both ways
    assert np.unique(event_keys(fixed, counting)).size == n
    assert np.unique(event_keys(counting, fixed)).size == n


@pytest.mark.parametrize("slice_keys", [1 << 18, 64])
def test_the_first_copy_of_each_key_is_kept_wherever_the_copies_are(
    monkeypatch: pytest.MonkeyPatch, slice_keys: int
) -> None:
    # Given keys in several parts, some repeated within a part, some across parts, some thrice
    monkeypatch.setattr(dedupe, "_SLICE_KEYS", slice_keys)  # 64: sixteen slices of the key space
    monkeypatch.setattr(dedupe, "_SLICE_ROWS", 50)
    rng = np.random.default_rng(9)
    distinct = rng.integers(0, 2**63, 2_000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    keys = np.concatenate([distinct, distinct[rng.choice(distinct.size, 300)]])
    rng.shuffle(keys)
    parts = np.array_split(keys, [100, 1_000, 1_001, 2_000])
    # When the first copies are found / Then exactly the first occurrence of each key is kept
    kept = first_copies(parts)
    assert kept.tolist() == reference_first_copies(keys.tolist())
    assert int(kept.sum()) == np.unique(keys).size


def test_keys_that_only_share_their_low_half_are_all_kept() -> None:
    # Given distinct keys with one low half, beside a key repeated
    shared = np.uint64(0xDEADBEEF)
    keys = np.array([1 << 40, 2 << 40, 3 << 40], dtype=np.uint64) | shared
    parts = [keys, np.array([7, 9, 7], dtype=np.uint64)]
    # When the first copies are found / Then only the repeat goes
    assert first_copies(parts).tolist() == [True, True, True, True, True, False]


def test_no_keys_and_no_repeats_keep_everything() -> None:
    # Given no keys, and distinct keys / When the first copies are found / Then all are kept
    assert first_copies([]).size == 0
    assert first_copies([np.arange(10, dtype=np.uint64), np.zeros(0, dtype=np.uint64)]).all()


def test_a_copy_in_a_later_object_counts_once() -> None:
    # Given a retry that landed in another lake object than the first copy
    rng = random.Random(21)
    first_day = shop_records(rng, 200)
    retry = dict(next(r for r in first_day if "productId" in r))
    later_day = [*shop_records(rng, 200, 200), retry]
    objects = [lines(*first_day), lines(*later_day)]
    # When built from columns (each object a block) and from records
    builder = InteractionBuilder()
    for data in objects:
        builder.add_block(block_of(usable_of_object(data)))
    built = builder.build(start_ts=0.0, end_ts=4e9)
    # Then both agree, and the retry is one of the duplicates dropped
    assert_same(old_path(objects), built)
    alone = old_path([lines(*first_day), lines(*later_day[:-1])])
    assert built.stats["duplicatesDropped"] == alone.stats["duplicatesDropped"] + 1
    assert len(built) == len(alone)


def test_copies_across_records_and_blocks_count_once(make_event: EventFactory) -> None:
    # Given an event added record by record, then its copy in a decoded block, then again
    event = make_event("purchase", product="p1")
    builder = InteractionBuilder()
    builder.add(event)
    builder.add_block(block_of(usable_of_object(lines(event, make_event("view", product="p2")))))
    builder.add(dict(event))
    # When built / Then one purchase and one view remain, the first copy's
    inter = builder.build(start_ts=START, end_ts=END)
    assert inter.stats["duplicatesDropped"] == 2
    assert sorted(inter.items) == ["p1", "p2"]


def test_two_ids_with_one_key_count_as_one_event_as_documented(make_event: EventFactory) -> None:
    # Given two different eventIds made to share a key (it is no cryptographic hash: one must
    # know the other id to make one, and knowing it is already enough to send a copy of it)
    first = uuid.UUID(int=random.Random(5).getrandbits(128))
    high, low = event_id_halves(str(first))
    other_low = low ^ 1
    other_high = high ^ dedupe._mix(low) ^ dedupe._mix(other_low)
    second = uuid.UUID(int=(other_high << 64) | other_low)
    assert second != first
    assert event_key(*event_id_halves(str(second))) == event_key(high, low)
    events = [
        make_event("view", product="p1", event_id=str(first)),
        make_event("view", product="p2", event_id=str(second)),
    ]
    # When built / Then the later is dropped as a copy of the first, and counted
    inter = InteractionBuilder().add_all(events).build(start_ts=START, end_ts=END)
    assert inter.items == ["p1"]
    assert inter.stats["duplicatesDropped"] == 1
