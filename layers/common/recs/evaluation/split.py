"""Time-based train/test splits that never leak the future into training.

Splits work on the raw interaction events (with timestamps), not on the aggregated
matrix, because "which interactions are the last ones" needs time. Both parts keep the
full ``n_users x n_items`` index space, so a model trained on one is scored on the
other without re-indexing. Tuning uses ``validation_split``, which only ever sees the
training part of a split: the test part stays untouched until the final report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from recs.engine._typing import BoolArray, Csr, FloatArray, IntArray

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Interactions:
    """Interaction events in coordinate form over a fixed index space.

    Attributes
    ----------
    users, items
        ``(n,)`` int32 indices in ``[0, n_users)`` / ``[0, n_items)``.
    values
        ``(n,)`` float32 interaction strengths (already weighted).
    timestamps
        ``(n,)`` float64 event times in seconds.
    n_users, n_items
        Size of the index space shared by every split of these events.
    """

    users: IntArray
    items: IntArray
    values: FloatArray
    timestamps: NDArray[np.float64]
    n_users: int
    n_items: int

    def __post_init__(self) -> None:
        n = len(self.users)
        if not (len(self.items) == len(self.values) == len(self.timestamps) == n):
            raise ValueError("users, items, values and timestamps must have the same length")
        if n and (self.users.min() < 0 or self.users.max() >= self.n_users):
            raise ValueError(f"user ids must be in [0, {self.n_users})")
        if n and (self.items.min() < 0 or self.items.max() >= self.n_items):
            raise ValueError(f"item ids must be in [0, {self.n_items})")

    @classmethod
    def from_arrays(
        cls,
        users: ArrayLike,
        items: ArrayLike,
        timestamps: ArrayLike,
        values: ArrayLike | None = None,
        *,
        n_users: int | None = None,
        n_items: int | None = None,
    ) -> Interactions:
        """Build from array-likes, casting to the canonical dtypes.

        Parameters
        ----------
        users, items
            Integer indices.
        timestamps
            Event times in seconds.
        values
            Interaction strengths; 1.0 for every event when ``None``.
        n_users, n_items
            Index space size; defaults to ``max + 1``.

        Returns
        -------
        Interactions
            Validated events.
        """
        u = np.asarray(users).astype(np.int32)
        i = np.asarray(items).astype(np.int32)
        v = np.ones(len(u), np.float32) if values is None else np.asarray(values).astype(np.float32)
        return cls(
            users=u,
            items=i,
            values=v,
            timestamps=np.asarray(timestamps).astype(np.float64),
            n_users=int(u.max()) + 1 if n_users is None else n_users,
            n_items=int(i.max()) + 1 if n_items is None else n_items,
        )

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: BoolArray) -> Interactions:
        """Events where ``mask`` is True, over the same index space."""
        return Interactions(
            self.users[mask],
            self.items[mask],
            self.values[mask],
            self.timestamps[mask],
            self.n_users,
            self.n_items,
        )

    def to_csr(self) -> Csr:
        """Aggregate to a canonical float32 ``(n_users, n_items)`` CSR (repeats summed)."""
        matrix = sp.csr_matrix(
            (self.values, (self.users, self.items)), shape=(self.n_users, self.n_items), dtype=np.float32
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix


@dataclass(frozen=True)
class Split:
    """A train part and a later, disjoint test part of the same events.

    Attributes
    ----------
    train, test
        Events; every test event is at or after the training events it is compared with.
    """

    train: Interactions
    test: Interactions

    def train_csr(self) -> Csr:
        """Training matrix, repeats summed."""
        return self.train.to_csr()

    def test_csr(self, drop_seen: bool = True) -> Csr:
        """Held-out matrix over the same index space.

        Parameters
        ----------
        drop_seen
            Remove (user, item) pairs that also occur in training. A recommender that
            filters already-seen items can never be credited for them, so keeping them
            would only lower every model equally; keep them (False) to evaluate repeat
            purchases.

        Returns
        -------
        Csr
            Canonical float32 CSR.
        """
        test = self.test.to_csr()
        if drop_seen:
            seen = self.train_csr()
            seen.data = np.ones_like(seen.data)
            test = test - test.multiply(seen)
            test.eliminate_zeros()
            test.sort_indices()
        return test.astype(np.float32)


def per_user_time_split(events: Interactions, test_fraction: float = 0.2, *, min_train: int = 1) -> Split:
    """Hold out the last ``test_fraction`` of each user's events by time.

    Each user with more than ``min_train`` events contributes
    ``max(1, floor(test_fraction * n))`` test events, capped so ``min_train`` remain for
    training. Ties in time are broken by input order, so the split is deterministic.

    Parameters
    ----------
    events
        All events.
    test_fraction
        Share of each user's events held out, in ``(0, 1)``.
    min_train
        Events a user keeps in training at least.

    Returns
    -------
    Split
        Train and test events over the same index space.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if min_train < 1:
        raise ValueError(f"min_train must be >= 1, got {min_train}")
    n = len(events)
    order = np.lexsort((np.arange(n), events.timestamps, events.users))
    users_sorted = events.users[order]
    counts = np.bincount(users_sorted, minlength=events.n_users)
    n_test = np.maximum(1, np.floor(test_fraction * counts).astype(np.int64))
    n_test = np.clip(np.minimum(n_test, counts - min_train), 0, None)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(n) - starts[users_sorted]
    is_test_sorted = rank >= (counts - n_test)[users_sorted]
    is_test = np.empty(n, np.bool_)
    is_test[order] = is_test_sorted
    return Split(events.subset(~is_test), events.subset(is_test))


def global_time_split(
    events: Interactions, *, test_days: float | None = None, cutoff: float | None = None
) -> Split:
    """Hold out every event at or after a global cut-off time.

    Parameters
    ----------
    events
        All events.
    test_days
        Hold out the events of the last ``test_days`` days, counted back from the
        newest event.
    cutoff
        Explicit cut-off timestamp in seconds.

    Returns
    -------
    Split
        Train events strictly before the cut-off, test events at or after it.
    """
    if (test_days is None) == (cutoff is None):
        raise ValueError("pass exactly one of test_days or cutoff")
    if test_days is not None:
        if test_days <= 0:
            raise ValueError(f"test_days must be > 0, got {test_days}")
        if len(events) == 0:
            raise ValueError("cannot derive a cut-off from no events")
        cutoff = float(events.timestamps.max()) - test_days * SECONDS_PER_DAY
    assert cutoff is not None  # narrowed above: exactly one of the two was given
    is_test = events.timestamps >= cutoff
    return Split(events.subset(~is_test), events.subset(is_test))


def validation_split(
    train: Interactions,
    strategy: Literal["per_user", "global"] = "per_user",
    *,
    fraction: float = 0.2,
    days: float = 7.0,
    min_train: int = 1,
) -> Split:
    """Carve a validation part out of the training events, for tuning.

    It takes only the training events (``split.train``), so hyperparameters chosen on
    it cannot have seen the test part.

    Parameters
    ----------
    train
        Training events of an outer split.
    strategy
        ``"per_user"`` (last ``fraction`` of each user's training events) or
        ``"global"`` (the last ``days`` days of the training window).
    fraction
        Per-user held-out share for ``"per_user"``.
    days
        Window length for ``"global"``.
    min_train
        Minimum events a user keeps, for ``"per_user"``.

    Returns
    -------
    Split
        ``train`` = events to fit on while tuning, ``test`` = validation events.
    """
    if strategy == "per_user":
        return per_user_time_split(train, fraction, min_train=min_train)
    if strategy == "global":
        return global_time_split(train, test_days=days)
    raise ValueError(f"strategy must be 'per_user' or 'global', got {strategy!r}")
