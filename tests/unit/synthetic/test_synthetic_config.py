"""Presets, configuration validation and the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from recs_tools.synthetic import (
    DEFAULT_NOW,
    PRESETS,
    ShopConfig,
    SyntheticShop,
    build_config,
    generate_shop,
    preset_names,
)
from recs_tools.synthetic.__main__ import main


def test_presets_are_listed() -> None:
    # Given the preset registry
    # Then the documented presets exist
    assert preset_names() == [
        "bench",
        "demo",
        "discovery-year",
        "first-day",
        "grocery",
        "grocery-year",
        "test",
    ]


@pytest.mark.parametrize("name", ["test", "demo", "bench", "grocery"])
def test_every_preset_builds_a_valid_config(name: str) -> None:
    # Given a preset name
    # When its configuration is built
    config = build_config(name)

    # Then it carries the preset's settings and the fixed reference time
    assert isinstance(config, ShopConfig)
    assert all(getattr(config, key) == value for key, value in PRESETS[name].items())
    assert config.now == DEFAULT_NOW


def test_preset_sizes_match_their_purpose() -> None:
    # Given the presets' configurations
    test, demo, bench = build_config("test"), build_config("demo"), build_config("bench")

    # Then they are tiny, demo-sized and benchmark-sized
    assert test.n_users == 100
    assert test.n_products == 60
    assert 1_000 <= demo.n_users <= 2_000
    assert 300 <= demo.n_products <= 600
    assert bench.n_users == 50_000
    assert bench.n_products == 5_000
    assert build_config("grocery").repurchase_rate > 10 * demo.repurchase_rate


def test_preset_event_counts(shop: SyntheticShop, demo_shop: SyntheticShop) -> None:
    # Given the generated test and demo shops
    # Then the test shop has a few thousand events and the demo 30k-60k
    assert 1_000 <= shop.n_events <= 10_000
    assert 30_000 <= demo_shop.n_events <= 60_000


def test_overrides_are_applied_and_validated() -> None:
    # Given overrides of a preset
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    # When the configuration is built
    config = build_config("demo", seed=9, n_users=10, now=now)

    # Then they win over the preset
    assert (config.seed, config.n_users, config.now) == (9, 10, now)
    assert config.n_products == PRESETS["demo"]["n_products"]


def test_now_is_normalised_to_utc() -> None:
    # Given a time in another zone
    paris = datetime(2026, 1, 15, 13, 0, tzinfo=timezone(timedelta(hours=1)))

    # When used as `now`
    config = build_config("test", now=paris)

    # Then it is stored in UTC
    assert config.now == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert config.now.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"now": datetime(2026, 1, 1)},  # naive: ambiguous
        {"n_userz": 5},  # typo
        {"click_rate": 1.5},
        {"n_categories": 100, "n_products": 50},
        {"n_favourite_categories": 7},  # test preset has 6 categories
        {"trending_days": 30},  # test preset spans 14 days
        {"duplicate_fraction": 0.9},
    ],
)
def test_invalid_overrides_are_rejected(overrides: dict[str, object]) -> None:
    # Given an invalid override
    # Then building the configuration fails loudly
    with pytest.raises(ValidationError):
        build_config("test", **overrides)


def test_unknown_preset_is_rejected() -> None:
    # Given a preset that does not exist
    # Then the error names the valid ones
    with pytest.raises(KeyError, match="demo"):
        build_config("huge")


def test_config_is_immutable() -> None:
    # Given a configuration
    config = build_config("test")

    # Then it cannot be changed in place
    with pytest.raises(ValidationError):
        config.seed = 5  # type: ignore[misc]


def test_now_shifts_the_whole_window() -> None:
    # Given the same shop at two reference times a week apart
    base = generate_shop(build_config("test", seed=5))
    later = generate_shop(build_config("test", seed=5, now=DEFAULT_NOW + timedelta(days=7)))

    # Then the events are the same, each shifted by exactly a week
    def parse(timestamp: str) -> datetime:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))

    assert len(base.events) == len(later.events)
    for before, after in zip(base.events, later.events, strict=True):
        assert parse(after["timestamp"]) - parse(before["timestamp"]) == timedelta(days=7)
        assert {**before, "timestamp": None} == {**after, "timestamp": None}


def test_cli_writes_events_catalog_and_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the command line with a preset, a seed, a time and an override
    out = tmp_path / "shop"

    # When it runs
    status = main(
        [
            "--preset",
            "test",
            "--seed",
            "4",
            "--now",
            "2026-02-01T00:00:00Z",
            "--set",
            "n_users=50",
            "--out",
            str(out),
        ]
    )

    # Then it writes the three files and a summary that agree with each other
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    events = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    catalog = (out / "catalog.jsonl").read_text(encoding="utf-8").splitlines()
    people = json.loads((out / "shop.json").read_text(encoding="utf-8"))
    assert summary["events"] == len(events)
    assert len(catalog) == summary["products"] == 60
    assert len(people["users"]) == 50
    assert people["config"]["now"].startswith("2026-02-01T00:00:00")
    assert set(people["optedOutUserIds"]) <= set(people["users"])
