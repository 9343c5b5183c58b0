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


def test_a_delta_pointers_base_reaches_serving_and_survives_the_cached_copy() -> None:
    # Given a pointer at a delta version v2 whose base is the full publish v1
    pointer = Pointer.from_row({**ROW, "modelVersion": "v2", "baseVersion": "v1"})
    # When serving reads it, and a fresh container reads the cache's copy of it
    copy = _decode_control(_encode_control(Control(pointer, frozenset())))
    # Then both read users' rows missing from v2 under v1
    assert (pointer.base_version, pointer.personal_base) == ("v1", "v1")
    assert copy.pointer == pointer


@pytest.mark.parametrize("base", [None, "", "v1"], ids=["absent", "empty", "the-version-itself"])
def test_a_full_versions_pointer_has_no_base_to_fall_back_to(base: str | None) -> None:
    # Given a pointer without a base, or naming the version itself (a full publish)
    row = ROW if base is None else {**ROW, "baseVersion": base}
    # When serving reads it / Then users' rows are read under the version only
    assert Pointer.from_row(row).personal_base is None


def test_a_cached_copy_written_before_deltas_still_reads() -> None:
    # Given the cache's copy of the pointer as serving wrote it before deltas (no baseVersion)
    old = json.dumps({**ROW, "listsVersion": "", "catalogVersion": None, "unavailable": ["sku_1"]})
    # When a fresh container reads it / Then it is a full version's pointer, as it was
    control = _decode_control(old.encode())
    assert control.pointer == Pointer("v1", "2026-03-01T00:00:00Z")
    assert control.unavailable == frozenset({"sku_1"})
    # And a full version's copy is written as before: no baseVersion in it
    assert b"baseVersion" not in _encode_control(control)
