"""The synthetic shop's output: wire format, validity, determinism, batching, files, injected noise."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from recs.contracts.events import ShopEvent
from recs.contracts.ids import ID_PATTERN
from recs_tools.synthetic import (
    PII_FIELDS,
    SyntheticShop,
    build_config,
    generate_shop,
    iter_batches,
    read_jsonl,
    write_jsonl,
)

_EVENTS = TypeAdapter(list[ShopEvent])
_ID = re.compile(ID_PATTERN)


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_same_seed_gives_byte_identical_jsonl(tmp_path: Path) -> None:
    # Given two generations from the same configuration
    config = build_config("test", seed=3, duplicate_fraction=0.01, pii_fraction=0.01)

    # When both are written to JSONL
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(generate_shop(config).events, first)
    write_jsonl(generate_shop(config).iter_events(), second)

    # Then the files are byte-identical
    assert first.read_bytes() == second.read_bytes()


def test_different_seeds_give_different_shops() -> None:
    # Given two seeds
    one = generate_shop(build_config("test", seed=1))
    two = generate_shop(build_config("test", seed=2))

    # Then events, catalog and event ids differ
    assert one.events != two.events
    assert [p.price for p in one.products] != [p.price for p in two.products]
    assert {e["eventId"] for e in one.events}.isdisjoint({e["eventId"] for e in two.events})


def test_every_event_validates_as_shop_event(shop: SyntheticShop, noisy_shop: SyntheticShop) -> None:
    # Given clean and noisy shops
    # When every event is validated against the contract
    clean = _EVENTS.validate_python(shop.events)
    noisy = _EVENTS.validate_python(noisy_shop.events)

    # Then all pass (extra PII fields are ignored by ShopEvent, never kept)
    assert len(clean) == len(shop.events)
    assert len(noisy) == len(noisy_shop.events)
    assert not any(field in event.model_dump() for event in noisy for field in PII_FIELDS)


def test_events_use_the_wire_format(shop: SyntheticShop) -> None:
    # Given the events
    events = shop.events

    # Then keys are camelCase, timestamps end in 'Z' and event ids are version-4 UUIDs
    for event in events:
        assert set(event) <= set(ShopEvent.model_fields)
        assert event["timestamp"].endswith("Z")
        assert uuid.UUID(event["eventId"]).version == 4
        assert "userId" in event or "anonId" in event
        assert ("productId" in event) == (event["eventType"] != "search")


def test_identifiers_match_the_id_pattern(shop: SyntheticShop) -> None:
    # Given every identifier the shop hands out
    ids = (
        shop.users
        + shop.anonymous_ids
        + [p.id for p in shop.products]
        + [e["sessionId"] for e in shop.events]
        + [pid for e in shop.events for pid in e.get("results", [])]
    )

    # Then each matches the contract's identifier pattern, with the documented prefixes
    assert all(_ID.match(i) for i in ids)
    assert all(u.startswith("user_") for u in shop.users)
    assert all(a.startswith("anon_") for a in shop.anonymous_ids)
    assert all(p.id.startswith("sku_") for p in shop.products)


def test_event_ids_are_unique_without_duplicates(shop: SyntheticShop) -> None:
    # Given a shop generated without duplicate injection
    counts = Counter(e["eventId"] for e in shop.events)

    # Then no event id repeats
    assert max(counts.values()) == 1
    assert shop.n_events == len(shop.events)


def test_events_are_sorted_and_inside_the_window(shop: SyntheticShop) -> None:
    # Given the configured window [now - days, now)
    now = shop.config.now
    start = now - timedelta(days=shop.config.days)

    # When timestamps are parsed
    times = [_parse(e["timestamp"]) for e in shop.events]

    # Then they are in order and inside the window
    assert times == sorted(times)
    assert start <= times[0]
    assert times[-1] < now


def test_duplicates_appear_only_when_enabled(shop: SyntheticShop, noisy_shop: SyntheticShop) -> None:
    # Given a clean and a noisy shop
    clean = Counter(e["eventId"] for e in shop.events)
    noisy = Counter(e["eventId"] for e in noisy_shop.events)

    # Then only the noisy one re-sends events, and a re-sent event is identical to its original
    assert max(clean.values()) == 1
    resent = [event_id for event_id, n in noisy.items() if n > 1]
    assert resent
    by_id: dict[str, list[dict[str, object]]] = {}
    for event in noisy_shop.events:
        by_id.setdefault(event["eventId"], []).append(event)
    assert all(by_id[i][0] == by_id[i][1] for i in resent)
    assert noisy_shop.n_events == len(noisy_shop.events)


def test_pii_appears_only_when_enabled(shop: SyntheticShop, noisy_shop: SyntheticShop) -> None:
    # Given a clean and a noisy shop
    # When events carrying personal data are collected
    clean = [e for e in shop.events if set(PII_FIELDS) & set(e)]
    noisy = [e for e in noisy_shop.events if set(PII_FIELDS) & set(e)]

    # Then only the noisy one has them, each with every PII field and a plausible e-mail address
    assert not clean
    assert noisy
    assert all(set(PII_FIELDS) <= set(e) for e in noisy)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+@example\.(com|org|net)", e["email"]) for e in noisy)
    # A search that carries PII also leaks the e-mail address into its free-text query.
    assert all(e["email"] in e["query"] for e in noisy if e["eventType"] == "search")
    assert not any("@" in e.get("query", "") for e in shop.events)


def test_noise_does_not_change_the_simulated_behaviour(
    shop: SyntheticShop, noisy_shop: SyntheticShop
) -> None:
    # Given the same seed with and without noise
    def signature(s: SyntheticShop) -> list[tuple[object, ...]]:
        return [(e["eventType"], e["timestamp"], e.get("productId")) for e in s.events]

    # When duplicates are dropped from the noisy shop
    seen: set[str] = set()
    deduped = []
    for event in noisy_shop.events:
        if event["eventId"] not in seen:
            seen.add(event["eventId"])
            deduped.append(event)

    # Then the underlying behaviour is the same (noise has its own random stream)
    assert signature(shop) == [(e["eventType"], e["timestamp"], e.get("productId")) for e in deduped]


def test_iter_batches_splits_into_bounded_batches(shop: SyntheticShop) -> None:
    # Given the events
    # When batched by 500
    batches = list(iter_batches(shop.events, size=500))

    # Then every batch but the last is full and nothing is lost or reordered
    assert all(len(b) == 500 for b in batches[:-1])
    assert 0 < len(batches[-1]) <= 500
    assert [e for b in batches for e in b] == shop.events


def test_iter_batches_rejects_a_non_positive_size() -> None:
    # Given a size of zero
    # Then batching refuses
    with pytest.raises(ValueError, match="size"):
        list(iter_batches([], size=0))


def test_jsonl_round_trips(tmp_path: Path, noisy_shop: SyntheticShop) -> None:
    # Given the events written to a JSONL file
    path = tmp_path / "nested" / "events.jsonl"
    written = write_jsonl(noisy_shop.iter_events(), path)

    # When read back
    events = list(read_jsonl(path))

    # Then they are the same, one compact line each
    assert written == len(events) == noisy_shop.n_events
    assert events == noisy_shop.events
    assert all(": " not in line for line in path.read_text(encoding="utf-8").splitlines()[:10])
