"""Visitor numbers Prepare gives (`NameNumbers`): exactly a dict's numbering in order of first
appearance, every name given back as it came, and never one number for two names, even when
their 64-bit keys collide."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt
import pytest

from recs.training.prepare.name_numbers import NameNumbers


def batches_of(pool: list[str], seed: int, count: int = 60) -> list[list[str]]:
    """Batches of distinct names drawn from ``pool`` (repeats across batches, none within one)."""
    rng = random.Random(seed)
    return [list(dict.fromkeys(rng.choice(pool) for _ in range(rng.randrange(0, 400)))) for _ in range(count)]


def dict_numbers(batches: list[list[str]]) -> tuple[list[list[int]], list[str]]:
    index: dict[str, int] = {}
    return [[index.setdefault(name, len(index)) for name in batch] for batch in batches], list(index)


def all_one_key(names: list[str]) -> npt.NDArray[np.uint64]:
    return np.zeros(len(names), dtype=np.uint64)


def key_by_length(names: list[str]) -> npt.NDArray[np.uint64]:
    return np.array([len(name) % 3 for name in names], dtype=np.uint64)


POOL = [f"u_{i:032x}" for i in range(3_000)]
MIXED = [
    *POOL[:500],
    "",
    "a",
    "a" * 300,
    "visitor-é",  # UTF-8 of two bytes
    "訪問者",  # of three
    "\ud800lone",  # a lone surrogate, as a JSON text can carry
    "u_1",
    "u_1 ",
]


@pytest.mark.parametrize(
    ("pool", "key"),
    [(POOL, None), (MIXED, None), (MIXED, all_one_key), (MIXED, key_by_length)],
    ids=["ids of one form", "mixed text", "every key colliding", "keys colliding by length"],
)
def test_numbers_are_a_dicts_and_the_names_come_back(pool: list[str], key: object) -> None:
    # Given batches of distinct names, repeating across batches, enough to grow every store
    batches = batches_of(pool, seed=11)
    table = NameNumbers() if key is None else NameNumbers(key)  # type: ignore[arg-type]
    # When each batch is numbered in turn
    got = [table.number(batch).tolist() for batch in batches]
    # Then every number is the one dict.setdefault(name, len(dict)) gives, even where keys collide
    want, names = dict_numbers(batches)
    assert got == want
    # And the names come back in order of number, exactly
    assert len(table) == len(names)
    assert table.names() == names


def test_a_name_whose_key_an_earlier_name_of_the_same_batch_brought_gets_a_number_of_its_own() -> None:
    # Given a key that two new names of one batch share, then both again with a third
    table = NameNumbers(all_one_key)
    # When numbered
    first = table.number(["b", "a"]).tolist()
    second = table.number(["a", "c", "b"]).tolist()
    # Then each name has its own number, kept on the second batch
    assert first == [0, 1]
    assert second == [1, 2, 0]
    assert table.names() == ["b", "a", "c"]


def test_nothing_to_number() -> None:
    # Given an empty table, when it numbers no names, then nothing is held
    table = NameNumbers()
    assert table.number([]).tolist() == []
    assert len(table) == 0
    assert table.names() == []


def test_names_of_one_length_and_of_many_are_told_apart_alike() -> None:
    # Given names held, then a batch of names that differ from held ones only in their last byte
    table = NameNumbers()
    held = [f"s_{i:04d}" for i in range(1_000)]
    table.number(held)
    near = [f"s_{i:03d}x" for i in range(100)]
    # When the near names and the held ones are numbered together (one length, then many)
    got = table.number([*near, *held[:10]]).tolist()
    mixed = table.number([*held[10:20], "s_", "s_00000"]).tolist()
    # Then the near names are new and the held ones keep their numbers
    assert got == list(range(1_000, 1_100)) + list(range(10))
    assert mixed == [*range(10, 20), 1_100, 1_101]
