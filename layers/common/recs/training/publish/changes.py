"""Publishing only the lists that changed: stable user shards, a hash per row, the base version.

A run publishes **full** (every user's rows under its version, plus each shard's row hashes) or
as a **delta** of the last full version, its *base*: only the rows whose content differs from
the base's (or that the base did not have) are written under the new version, and serving reads
a user's row under the new version, else under the base (`recs.serving`, the pointer's
``baseVersion``). A user whose list became empty gets an empty row under the new version, so
the base's list is not shown. A delta is always taken against the base, never against the
previous delta, so serving needs two keys at most.

For a delta, each shard must hold the same users as the base's shard of that name: users go to
shards by a hash of their pseudonym (`bucket_of`) over a power-of-two number of shards
(`shard_count`), which changes only when the shop doubles (that run is then full).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recs.store_layout import decode_items

#: The hash of "no row" (a user without a list or without purchases).
NO_ROW = np.uint64(0)


def shard_count(users: int, shard_users: int) -> int:
    """Shards for ``users`` at most ``shard_users`` each on average: the next power of two."""
    needed = max(1, math.ceil(users / max(shard_users, 1)))
    return 1 << (needed - 1).bit_length()


def bucket_of(pseudonyms: Sequence[str], shards: int) -> npt.NDArray[np.int64]:
    """Each pseudonym's shard: stable across runs for the same shard count."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(p.encode(), digest_size=8).digest(), "big") % shards
            for p in pseudonyms
        ),
        dtype=np.int64,
        count=len(pseudonyms),
    )


def row_hash(row: Mapping[str, Any] | None) -> np.uint64:
    """What a shopper sees of a list row, its products in order and their reasons, as 64 bits;
    `NO_ROW` for none or an empty list. Scores are left out: a retrained model moves every score
    a little, and a list in the same order with the same reasons serves the same."""
    if row is None:
        return NO_ROW
    shown = [(pid, reason) for pid, _score, reason in decode_items(str(row["d"]))]
    if not shown:
        return NO_ROW
    digest = hashlib.blake2b(json.dumps(shown, separators=(",", ":")).encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "big") or 1)


@dataclass(frozen=True)
class ShardHashes:
    """One shard's users and the hash of each of their rows (what a full publish keeps)."""

    users: list[str]
    lists: npt.NDArray[np.uint64]
    purchases: npt.NDArray[np.uint64]

    def to_arrays(self) -> dict[str, Any]:
        return {
            "users": np.array(self.users, dtype=np.str_),
            "lists": self.lists,
            "purchases": self.purchases,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any]) -> ShardHashes:
        return cls([str(u) for u in arrays["users"].tolist()], arrays["lists"], arrays["purchases"])


@dataclass(frozen=True)
class Delta:
    """The rows a shard writes against its base, and how many it left as the base has them."""

    rows: list[dict[str, Any]]
    unchanged: int


def changed_rows(
    users: Sequence[str],
    list_rows: Mapping[str, dict[str, Any]],
    purchase_rows: Mapping[str, dict[str, Any]],
    base: ShardHashes,
    empty_row: Any,
) -> Delta:
    """The rows of ``users`` (their list and purchases rows by user; absent = none) that differ
    from ``base``'s: new or changed rows, and an empty row (``empty_row(kind, user)``) where the
    base had one and this run has none. Users of the base who are not in this run get nothing
    (they keep the base's rows, as a full run leaves them out: docs/training.md, Publish)."""
    index = {user: i for i, user in enumerate(base.users)}
    rows: list[dict[str, Any]] = []
    unchanged = 0
    for user in users:
        at = index.get(user)
        for kind, built, hashes in (
            ("list", list_rows, base.lists),
            ("purchases", purchase_rows, base.purchases),
        ):
            row = built.get(user)
            before = NO_ROW if at is None else hashes[at]
            now = row_hash(row)
            if now == before:
                unchanged += 1 if before != NO_ROW else 0
            elif row is not None and now != NO_ROW:
                rows.append(row)
            else:
                rows.append(empty_row(kind, user))
    return Delta(rows, unchanged)


def hashes_of(
    users: Sequence[str], list_rows: Mapping[str, dict[str, Any]], purchase_rows: Mapping[str, dict[str, Any]]
) -> ShardHashes:
    return ShardHashes(
        list(users),
        np.array([row_hash(list_rows.get(u)) for u in users], dtype=np.uint64),
        np.array([row_hash(purchase_rows.get(u)) for u in users], dtype=np.uint64),
    )
