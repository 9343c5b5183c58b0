"""The pointer as serving reads it: the version, its shop-wide lists and its session constants."""

from __future__ import annotations

import json

import pytest

from recs.serving.repository import Control, Pointer, _decode_control, _encode_control
from recs.store_layout import SESSION_CONSTANTS_ATTRIBUTE, read_session_constants, session_constants

ROW = {"modelVersion": "v1", "generatedAt": "2026-03-01T00:00:00Z"}


def test_the_learned_constants_reach_serving_and_survive_the_cached_copy() -> None:
    # Given a pointer written with a version's chosen constants
    row = {**ROW, **session_constants({"session_seeds": 12, "session_recency": 0.5, "other": 1})}
    # When serving reads it, and a fresh container reads the cache's copy of it
    pointer = Pointer.from_row(row)
    copy = _decode_control(_encode_control(Control(pointer, frozenset({"sku_1"}))))
    # Then both merge with 12 seeds and a recency of 0.5
    assert pointer.session == (12, 0.5)
    assert copy.pointer == pointer


def test_a_pointer_without_constants_leaves_the_configured_defaults() -> None:
    assert Pointer.from_row(ROW).session is None
    assert session_constants({"session_seeds": 8}) == {}
    assert session_constants(None) == {}


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        json.dumps({"seeds": 8}),
        json.dumps({"seeds": "many", "recency": 1}),
        json.dumps({"seeds": 0, "recency": 1}),
        json.dumps({"seeds": 8, "recency": -1}),
        json.dumps([8, 1]),
    ],
)
def test_unreadable_constants_are_ignored_rather_than_failing_requests(raw: str) -> None:
    # Given a pointer whose constants were damaged / Then serving keeps its defaults
    assert read_session_constants({**ROW, SESSION_CONSTANTS_ATTRIBUTE: raw}) is None
