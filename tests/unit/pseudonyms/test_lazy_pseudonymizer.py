"""The pseudonym key is loaded on first use, and a failed load is retried after a pause."""

from __future__ import annotations

import pytest

from recs.errors import StoreUnavailableError
from recs.pseudonyms import LazyPseudonymizer, Pseudonymizer

KEY = b"k" * 32


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_key_is_loaded_once_on_first_use() -> None:
    # Given a key source that records every load
    loads: list[int] = []

    def load() -> bytes:
        loads.append(1)
        return KEY

    # When the lazy pseudonyms are created
    pseudonyms = LazyPseudonymizer(load)
    # Then the key is not loaded yet
    assert loads == []
    # When a user id and then an anonymous id are pseudonymised
    # Then both match a Pseudonymizer built with the key
    assert pseudonyms.user("u1") == Pseudonymizer(KEY).user("u1")
    assert pseudonyms.anon("a1") == Pseudonymizer(KEY).anon("a1")
    # and the key was loaded only once, for both
    assert loads == [1]


def test_a_failed_load_is_retried_only_after_the_pause() -> None:
    # Given a key source that fails once, then recovers
    attempts: list[float] = []
    clock = Clock()

    def load() -> bytes:
        attempts.append(clock.now)
        if len(attempts) == 1:
            raise StoreUnavailableError("down")
        return KEY

    pseudonyms = LazyPseudonymizer(load, retry_after_seconds=5, monotonic=clock)
    # When requests keep coming
    with pytest.raises(StoreUnavailableError):
        pseudonyms.user("u1")
    clock.now = 2.0
    with pytest.raises(StoreUnavailableError):
        pseudonyms.user("u1")
    clock.now = 6.0
    # Then the source was asked again only after the pause, and then it works
    assert pseudonyms.user("u1").startswith("u_")
    assert attempts == [0.0, 6.0]
