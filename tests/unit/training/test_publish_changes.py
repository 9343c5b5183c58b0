"""Publishing only what changed: stable shards by pseudonym, a hash of what a shopper sees, and
the rows a delta writes against its base."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from recs.store_layout import list_row, purchased_pk, user_pk
from recs.training.publish.changes import (
    NO_ROW,
    ShardHashes,
    bucket_of,
    changed_rows,
    hashes_of,
    row_hash,
    shard_count,
)

V = "v2"


def _row(user: str, items: list[tuple[str, float, str | None]], *, kind: str = "list") -> dict[str, Any]:
    pk = user_pk(user) if kind == "list" else purchased_pk(user)
    return list_row(pk, V, items, "2026-03-02T12:00:00Z", 0)


def _empty(kind: str, user: str) -> dict[str, Any]:
    return _row(user, [], kind=kind)


@pytest.mark.parametrize(
    ("users", "per_shard", "shards"), [(0, 100, 1), (100, 100, 1), (101, 100, 2), (900, 100, 16)]
)
def test_the_shard_count_is_a_power_of_two_covering_the_users(
    users: int, per_shard: int, shards: int
) -> None:
    assert shard_count(users, per_shard) == shards


def test_a_user_keeps_their_shard_whatever_else_is_in_the_run() -> None:
    # Given two runs with different users around the same one
    first = bucket_of(["u-a", "u-b", "u-c"], 8)
    second = bucket_of(["u-z", "u-c", "u-a"], 8)
    # Then each user is in the same shard both times, within the shard count
    assert first[0] == second[2]
    assert first[2] == second[1]
    assert all(0 <= b < 8 for b in [*first, *second])


def test_the_hash_is_what_a_shopper_sees_not_the_scores() -> None:
    # Given the same products and reasons with other scores, and another order
    base = _row("u", [("p1", 0.9, "because"), ("p2", 0.5, None)])
    rescored = _row("u", [("p1", 0.8, "because"), ("p2", 0.4, None)])
    reordered = _row("u", [("p2", 0.9, None), ("p1", 0.5, "because")])
    # Then only the order and reasons count, and an empty list hashes as no row
    assert row_hash(base) == row_hash(rescored)
    assert row_hash(base) != row_hash(reordered)
    assert row_hash(_row("u", [])) == NO_ROW == row_hash(None)


def test_a_delta_writes_new_and_changed_rows_and_empties_what_the_base_had() -> None:
    # Given a base with four users' lists and one user's purchases
    base_lists = {
        "same": _row("same", [("p1", 1.0, None)]),
        "moved": _row("moved", [("p1", 1.0, None), ("p2", 0.5, None)]),
        "emptied": _row("emptied", [("p3", 1.0, None)]),
        "gone": _row("gone", [("p4", 1.0, None)]),
    }
    base_bought = {"same": _row("same", [("p9", 1.0, None)], kind="purchases")}
    base = hashes_of(list(base_lists), base_lists, base_bought)
    # When this run has: same unchanged, moved reordered, emptied without a list, a new user,
    # and "gone" not in the run at all
    lists = {
        "same": _row("same", [("p1", 0.7, None)]),
        "moved": _row("moved", [("p2", 1.0, None), ("p1", 0.5, None)]),
        "new": _row("new", [("p5", 1.0, None)]),
    }
    bought = {"same": _row("same", [("p9", 1.0, None)], kind="purchases")}
    delta = changed_rows(["same", "moved", "emptied", "new"], lists, bought, base, _empty)
    # Then it writes the moved and new lists and an empty list for "emptied", nothing for "same"
    # (two rows unchanged: its list and its purchases) and nothing for "gone"
    written = {(row["pk"], row["d"]) for row in delta.rows}
    assert written == {
        (user_pk("moved"), lists["moved"]["d"]),
        (user_pk("new"), lists["new"]["d"]),
        (user_pk("emptied"), "[]"),
    }
    assert delta.unchanged == 2


def test_purchases_that_end_are_emptied_too() -> None:
    # Given a base where a user had purchases to filter, and a run where they have none
    base = hashes_of(["u"], {}, {"u": _row("u", [("p1", 1.0, None)], kind="purchases")})
    # When the delta is built
    delta = changed_rows(["u"], {}, {}, base, _empty)
    # Then the purchases row is emptied, so serving stops filtering by the base's
    assert [(row["pk"], row["d"]) for row in delta.rows] == [(purchased_pk("u"), "[]")]


def test_shard_hashes_survive_their_arrays() -> None:
    hashes = ShardHashes(["a", "b"], np.array([1, 2], dtype=np.uint64), np.array([0, 3], dtype=np.uint64))
    back = ShardHashes.from_arrays(hashes.to_arrays())
    assert back.users == ["a", "b"]
    assert back.lists.tolist() == [1, 2]
    assert back.purchases.tolist() == [0, 3]
