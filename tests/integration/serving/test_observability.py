"""Structured logs and EMF metrics of served requests: the fields operators need, no raw ids.

Each request writes one JSON line that is both its log line and its EMF document
(`recs.api.request_record`); the lines are read from the process's standard output.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import (
    PSEUDONYMS,
    RICH_USER,
    World,
    emf_metrics,
    log_lines,
    sku,
)


@pytest.fixture
def talkative(caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    """A stack logging at INFO, with the test world published."""
    # Powertools configures the service's logger once per process (one function per process in
    # Lambda); other tests in this process may have configured it at WARNING.
    caplog.set_level(logging.INFO, logger="recommend")
    with LocalStack(parameter_overrides={"LogLevel": "INFO"}) as stack:
        world = World(stack)
        world.publish_everything()
        yield world


def test_each_request_logs_cache_outcome_latency_version_context_source_and_variant(
    talkative: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a user asking twice (the second time from the cache)
    talkative.user_session(RICH_USER, [(sku(3), "view")])
    capfd.readouterr()
    talkative.ask("recommend_homepage")
    talkative.ask("recommend_homepage")
    # When the log lines are read
    first, second = log_lines(capfd.readouterr().out, "served")
    # Then each names what served it and how
    for line in (first, second):
        assert line["context"] == "homepage"
        assert line["source"] == "user"
        assert line["modelVersion"].startswith("v2026")
        # No experiment configured: the variant is also a metric dimension, so a string
        assert line["variant"] == "none"
        assert line["experiment"] is None
        assert line["level"] == "INFO"
        assert line["service"] == "recommend"
        assert line["function_request_id"]
        assert line["latencyMs"] > 0
        assert line["identity"] == "user"
    assert first["cache"] == "miss"
    assert second["cache"] == "hit"
    assert second["cacheRoundTrips"] == 1
    assert second["storeReads"] == 0


def test_logs_and_metrics_never_carry_raw_ids(
    talkative: World, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given requests with a user id, an anonymous id, and a rejected one
    talkative.ask("recommend_homepage")
    talkative.ask("recommend_anonymous")
    talkative.ask("recommend_bad_limit")
    logged = json.dumps([(r.getMessage(), vars(r)) for r in caplog.records], default=str)
    printed = capfd.readouterr().out
    output = printed + logged
    # Then no raw identifier appears anywhere in the output, only pseudonyms
    assert RICH_USER not in output
    assert "anon_sample_1" not in output
    served = log_lines(printed, "served")
    assert served[0]["visitor"] == PSEUDONYMS.user(RICH_USER)
    assert served[1]["visitor"] == PSEUDONYMS.anon("anon_sample_1")


def test_metrics_count_cache_hits_misses_fallback_tiers_latency_and_errors(
    talkative: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a cold and a warm request, an anonymous one, and a bad one
    talkative.ask("recommend_homepage")
    talkative.ask("recommend_homepage")
    talkative.ask("recommend_anonymous")
    talkative.ask("recommend_bad_limit")
    documents = emf_metrics(capfd.readouterr().out)
    # Then the metrics say so
    main = [d for d in documents if "CacheHits" in d]
    assert [(d["CacheHits"][0] > 0, d["CacheMisses"][0] > 0) for d in main[:2]] == [
        (False, True),
        (True, False),
    ]
    assert all("Latency" in d and d["Latency"][0] > 0 for d in main)
    served = [(d["context"], d["source"], d["variant"]) for d in documents if "Served" in d]
    assert served == [
        ("homepage", "user", "none"),
        ("homepage", "user", "none"),
        ("homepage", "popular", "none"),
    ]
    assert [d["ClientErrors"][0] for d in documents if "ClientErrors" in d] == [1.0]
    # And each served request's latency is also counted by cache outcome, for the SLO's
    # cache-hit budget (its own dimension set: service and cache)
    by_cache = [(d["cache"], d["Latency"][0] > 0) for d in documents if "cache" in d and "Latency" in d]
    assert by_cache == [("miss", True), ("hit", True), ("miss", True)]
    assert all(
        _dimension_sets(d, "Latency") == [["service", "context", "source", "variant"], ["service", "cache"]]
        for d in main
    )
    # And the whole service's counts carry no dimension but the service: two signed-in requests
    # served their own list, one anonymous
    totals = [d for d in documents if "Requests" in d]
    assert [_dimension_sets(d, "Requests") for d in totals] == [[["service"]]] * 3
    assert [(d.get("UserRequests", [0])[0], d.get("UserFallbacks", [0])[0]) for d in totals] == [
        (1.0, 0.0),
        (1.0, 0.0),
        (0, 0),
    ]
    # And each metric is published under its own dimension sets only (no metric multiplied)
    assert all(_dimension_sets(d, "Served") == [["service", "context", "source", "variant"]] for d in main)
    assert [_dimension_sets(d, "ClientErrors") for d in documents if "ClientErrors" in d] == [[["service"]]]


def _dimension_sets(document: dict[str, Any], metric: str) -> list[list[str]]:
    """The dimension sets `metric` is published under by an EMF document's directives."""
    return [
        dimensions
        for directive in document["_aws"]["CloudWatchMetrics"]
        if any(m["Name"] == metric for m in directive["Metrics"])
        for dimensions in directive["Dimensions"]
    ]
