"""The model table's write side: META rows merge, the pointer flips and remembers the previous
version, and reads of the serving version's META go through the pointer."""

from __future__ import annotations

import json

from recs.store_layout import POINTER_KEY, read_session_constants, version_meta_key
from recs.training.publish.model_versions import ModelVersions
from tests.unit.privacy.fakes import MemoryTable


def test_meta_attributes_merge_and_none_leaves_a_value_as_it_was() -> None:
    # Given a version whose META row has a status and an expiry
    table = MemoryTable()
    versions = ModelVersions(table)
    versions.update_meta("v1", 1000, {"status": "training", "stats": "{}"})
    # When a later step updates one attribute and passes None for another
    versions.update_meta("v1", None, {"status": "evaluated", "stats": None})
    # Then the row keeps what was not updated, and the expiry stays
    row = table.get(*version_meta_key("v1"))
    assert row == {
        **dict(zip(("pk", "sk"), version_meta_key("v1"), strict=True)),
        "status": "evaluated",
        "stats": "{}",
        "expiresAt": 1000,
    }


def test_flip_points_at_the_new_version_and_returns_the_one_it_replaces() -> None:
    # Given a table serving v1
    table = MemoryTable()
    versions = ModelVersions(table)
    assert versions.flip("v1", "2026-11-01T00:00:00Z", "2026-11-01T00:05:00Z") is None
    # When v2 flips
    previous = versions.flip("v2", "2026-11-02T00:00:00Z", "2026-11-02T00:05:00Z")
    # Then the pointer names v2 and remembers v1
    assert previous == "v1"
    pointer = table.get(*POINTER_KEY)
    assert pointer is not None
    assert (pointer["modelVersion"], pointer["previousVersion"]) == ("v2", "v1")


def test_the_serving_versions_meta_is_read_through_the_pointer() -> None:
    # Given v1 serving with a chosen family, and v2 written but not flipped
    table = MemoryTable()
    versions = ModelVersions(table)
    versions.update_meta("v1", None, {"chosen": json.dumps({"model_family": "ease"})})
    versions.update_meta("v2", None, {"chosen": json.dumps({"model_family": "als"})})
    assert versions.current_json("chosen") is None  # nothing serves yet
    versions.flip("v1", "g", "f")
    # When the serving version's choice is read / Then it is v1's, not the newest row's
    assert versions.current_json("chosen") == {"model_family": "ease"}
    assert versions.current_json("evaluation") is None


def test_renewal_pushes_back_the_expiry_of_present_rows_and_leaves_absent_ones_absent() -> None:
    # Given two stored rows of a version, and a third key whose row privacy deleted
    table = MemoryTable()
    versions = ModelVersions(table)
    table.put_many(
        [
            {"pk": "USER#a", "sk": "v1", "d": "[]", "expiresAt": 10},
            {"pk": "POP#", "sk": "v1", "expiresAt": 10},
        ]
    )
    keys = [("USER#a", "v1"), ("POP#", "v1"), ("USER#gone", "v1")]
    # When the version is renewed, in chunks smaller than the key list
    renewed = versions.renew(keys, expires_at=99, chunk=2)
    # Then the two rows carry the new expiry, everything else as it was, and nothing is created
    assert renewed == 2
    assert table.get("USER#a", "v1") == {"pk": "USER#a", "sk": "v1", "d": "[]", "expiresAt": 99}
    assert table.get("POP#", "v1") == {"pk": "POP#", "sk": "v1", "expiresAt": 99}
    assert table.get("USER#gone", "v1") is None


def test_flip_carries_the_versions_session_constants_to_the_pointer() -> None:
    # Given a version whose training chose 12 seeds and a recency of 0.5
    table = MemoryTable()
    versions = ModelVersions(table)
    chosen = {"model_family": "als", "session_seeds": 12, "session_recency": 0.5}
    # When it flips
    versions.flip("v1", "g", "f", chosen)
    # Then the pointer names them, as serving reads them
    pointer = table.get(*POINTER_KEY)
    assert pointer is not None
    assert read_session_constants(pointer) == (12, 0.5)
    # And a version trained before they were learned flips without them
    versions.flip("v2", "g", "f", {"model_family": "als"})
    pointer = table.get(*POINTER_KEY)
    assert pointer is not None
    assert read_session_constants(pointer) is None


def test_refreshing_shop_wide_lists_keeps_the_serving_versions_constants() -> None:
    # Given v1 serving with its constants, then a refused run refreshing the shop-wide lists
    table = MemoryTable()
    versions = ModelVersions(table)
    versions.flip("v1", "g", "f", {"session_seeds": 3, "session_recency": 2.0})
    versions.refresh_lists("v2", "g2", "f2")
    # Then the similar-items lists still come from v1, merged as v1 chose
    pointer = table.get(*POINTER_KEY)
    assert pointer is not None
    assert (pointer["modelVersion"], pointer["listsVersion"]) == ("v1", "v2")
    assert read_session_constants(pointer) == (3, 2.0)
