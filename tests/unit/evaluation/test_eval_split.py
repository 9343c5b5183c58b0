"""Time-based splits never leak test events into training."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

from recs.evaluation.split import (
    SECONDS_PER_DAY,
    Interactions,
    global_time_split,
    per_user_time_split,
    validation_split,
)


def _events(seed: int = 0, n: int = 400) -> Interactions:
    rng = np.random.default_rng(seed)
    return Interactions.from_arrays(
        users=rng.integers(0, 20, n),
        items=rng.integers(0, 30, n),
        timestamps=rng.integers(0, 60, n) * SECONDS_PER_DAY,  # many ties on purpose
        values=rng.integers(1, 6, n),
        n_users=20,
        n_items=30,
    )


def _keys(part: Interactions) -> set[tuple[int, int, float, int]]:
    columns = (part.users.tolist(), part.items.tolist(), part.timestamps.tolist(), part.values.tolist())
    return set(zip(*columns, strict=True))


def test_per_user_split_holds_out_each_users_latest_fifth() -> None:
    # Given events of 20 users
    events = _events()
    # When the last 20% of each user's events are held out
    split = per_user_time_split(events, 0.2)
    # Then train and test partition the events
    assert len(split.train) + len(split.test) == len(events)
    # And for each user the test part is floor(20%) (at least 1) and never earlier than training
    for user in range(20):
        train_t = split.train.timestamps[split.train.users == user]
        test_t = split.test.timestamps[split.test.users == user]
        total = len(train_t) + len(test_t)
        assert len(test_t) == min(max(1, int(0.2 * total)), total - 1)
        assert train_t.max() <= test_t.min()


def test_per_user_split_keeps_min_train_and_is_deterministic() -> None:
    # Given a user with only two events
    events = Interactions.from_arrays([0, 0], [1, 2], [5.0, 5.0])
    # When split twice / Then one event stays in training, the same one each time (input order breaks ties)
    first = per_user_time_split(events, 0.5)
    second = per_user_time_split(events, 0.5)
    assert first.train.items.tolist() == [1] == second.train.items.tolist()
    assert first.test.items.tolist() == [2]


def test_global_split_uses_the_last_days() -> None:
    # Given events spread over 60 days
    events = _events(1)
    # When the last 7 days are held out
    split = global_time_split(events, test_days=7)
    cutoff = events.timestamps.max() - 7 * SECONDS_PER_DAY
    # Then every test event is at or after the cut-off and every train event before it
    assert split.test.timestamps.min() >= cutoff
    assert split.train.timestamps.max() < cutoff
    assert len(split.train) + len(split.test) == len(events)


def test_global_split_needs_exactly_one_boundary() -> None:
    # Given events / When no or both boundaries are given / Then ValueError
    with pytest.raises(ValueError, match="exactly one"):
        global_time_split(_events())
    with pytest.raises(ValueError, match="exactly one"):
        global_time_split(_events(), test_days=1, cutoff=0.0)


@pytest.mark.parametrize("strategy", ["per_user", "global"])
def test_validation_is_carved_from_train_only(strategy: Literal["per_user", "global"]) -> None:
    # Given an outer split
    events = _events(2)
    outer = per_user_time_split(events, 0.2)
    # When a validation split is carved for tuning
    inner = validation_split(outer.train, strategy, fraction=0.25, days=5)
    # Then it is exactly the training part, and shares nothing with the test part
    assert _keys(inner.train) | _keys(inner.test) == _keys(outer.train)
    assert len(inner.train) + len(inner.test) == len(outer.train)
    assert not (_keys(inner.test) & _keys(outer.test))
    assert not (_keys(inner.train) & _keys(outer.test))


def test_csr_views_share_the_index_space_and_drop_seen_pairs() -> None:
    # Given user 0 bought item 1 twice: once early, once late; and item 2 late only
    events = Interactions.from_arrays(
        [0, 0, 0, 1], [1, 1, 2, 0], [1.0, 9.0, 9.0, 1.0], [2.0, 3.0, 1.0, 1.0], n_users=2, n_items=4
    )
    split = global_time_split(events, cutoff=5.0)
    # When the matrices are built
    train, test = split.train_csr(), split.test_csr()
    test_with_repeats = split.test_csr(drop_seen=False)
    # Then both are float32 over the full space; the repeat is dropped unless asked for
    assert train.shape == test.shape == (2, 4)
    assert train.dtype == test.dtype == np.float32
    assert test[0].indices.tolist() == [2]
    assert test_with_repeats[0].indices.tolist() == [1, 2]
    assert train[0, 1] == 2.0


def test_interactions_validate_their_index_space() -> None:
    # Given an item id outside the declared catalog / When built / Then ValueError
    with pytest.raises(ValueError, match="item ids"):
        Interactions.from_arrays([0], [5], [0.0], n_items=3)
