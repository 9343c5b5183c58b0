from __future__ import annotations

import pytest

from recs.pseudonyms import Pseudonymizer

KEY = b"k" * 32


def test_same_raw_id_always_maps_to_the_same_pseudonym() -> None:
    # Given two pseudonymizers with the same key
    first, second = Pseudonymizer(KEY), Pseudonymizer(KEY)
    # When the same id is pseudonymized by both
    # Then the pseudonyms are equal and carry no trace of the raw id
    assert first.user("user_000001") == second.user("user_000001")
    assert "user_000001" not in first.user("user_000001")


def test_kinds_and_keys_separate_pseudonyms() -> None:
    # Given one id used as a user id and as an anonymous id, and a second key
    pseudonyms, other = Pseudonymizer(KEY), Pseudonymizer(b"x" * 32)
    # Then every kind and every key gives a different pseudonym
    values = {pseudonyms.user("abc"), pseudonyms.anon("abc"), pseudonyms.session("abc"), other.user("abc")}
    assert len(values) == 4
    assert pseudonyms.user("abc").startswith("u_")
    assert pseudonyms.anon("abc").startswith("a_")


def test_tombstone_differs_from_the_pseudonym() -> None:
    # Given a user's pseudonym
    pseudonyms = Pseudonymizer(KEY)
    pseudonym = pseudonyms.user("user_1")
    # When its erasure tombstone is computed
    tombstone = pseudonyms.tombstone(pseudonym)
    # Then it is stable and does not contain the pseudonym
    assert tombstone == pseudonyms.tombstone(pseudonym)
    assert pseudonym not in tombstone


def test_short_keys_are_refused() -> None:
    # Given a key too short to resist guessing / When used / Then it is refused
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymizer(b"short")
