"""The pointer as serving reads it: the version, its shop-wide lists and its session constants."""

from __future__ import annotations

import json

import pytest

from recs.serving.repository import Control, Pointer, _decode_control, _encode_control
from recs.store_layout import (
    SESSION_CONSTANTS_ATTRIBUTE,
    SessionConstants,
    read_session_constants,
    session_constants,
)

ROW = {"modelVersion": "v1", "generatedAt": "2026-03-01T00:00:00Z"}


def test_the_learned_constants_reach_serving_and_survive_the_cached_copy() -> None:
    # Given a pointer written with a version's chosen constants
    chosen = {"session_seeds": 12, "session_recency": 0.5, "session_weight": 0.1, "other": 1}
    row = {**ROW, **session_constants(chosen)}
    # When serving reads it, and a fresh container reads the cache's copy of it
    pointer = Pointer.from_row(row)
    copy = _decode_control(_encode_control(Control(pointer, frozenset({"sku_1"}))))
    # Then both merge with 12 seeds and a recency of 0.5, and weigh the session 0.1 on homepages
    assert pointer.session == SessionConstants(12, 0.5, 0.1)
    assert copy.pointer == pointer


def test_a_pointer_without_constants_leaves_the_configured_defaults() -> None:
    assert Pointer.from_row(ROW).session is None
    # A version that chose no weight keeps serving's configured one
    without_weight = session_constants({"session_seeds": 8, "session_recency": 1.0})
    assert read_session_constants(without_weight) == SessionConstants(8, 1.0, None)
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
        json.dumps({"seeds": 8, "recency": 1, "weight": 2}),
        json.dumps({"seeds": 8, "recency": 1, "weight": "heavy"}),
    ],
)
def test_unreadable_constants_are_ignored_rather_than_failing_requests(raw: str) -> None:
    # Given a pointer whose constants were damaged / Then serving keeps its defaults
    assert read_session_constants({**ROW, SESSION_CONSTANTS_ATTRIBUTE: raw}) is None
