"""The argparse value types both command lines use."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest

from recs_tools.argtypes import aware_datetime, key_value


def test_a_time_must_carry_its_zone() -> None:
    # Given / When / Then: a zoned time parses, "Z" included; a naive one is refused, saying why
    assert aware_datetime("2026-11-01T00:00:00Z") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="needs a zone"):
        aware_datetime("2026-11-01T00:00:00")


def test_key_value_reads_json_values_and_keeps_other_text() -> None:
    # Given / When / Then: JSON values are typed, the rest stays text, a missing '=' is refused
    assert key_value("als_factors=32") == ("als_factors", 32)
    assert key_value("family=ease") == ("family", "ease")
    assert key_value('weights={"view": 1}') == ("weights", {"view": 1})
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        key_value("als_factors")
