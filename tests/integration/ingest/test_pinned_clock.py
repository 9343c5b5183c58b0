"""The tests' pinned clock reaches every component that reads the time: the test itself, the
functions, and moto's Firehose, which names the lake's date partitions from the clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from recs_tools.local.stack import LocalStack
from tests.clock import PINNED_NOW
from tests.helpers import load_event
from tests.integration.ingest.lake import lake_objects, post


def test_the_tests_run_on_the_pinned_day_whatever_the_day_they_run() -> None:
    # Given the session's pinned clock
    # When a test reads the time
    now = datetime.now(UTC)
    # Then it is the pinned instant, moved on by at most the session so far
    assert PINNED_NOW <= now < PINNED_NOW + timedelta(hours=1)


def test_an_event_stamped_now_lands_in_the_pinned_days_lake_partition(stack: LocalStack) -> None:
    # Given an event stamped by the pinned clock
    event = json.loads(load_event("ingest_anonymous_view")["body"])
    # When the ingest function accepts it
    response = post(stack, {"events": [event]})
    assert response["statusCode"] == 202
    # Then Firehose wrote it under the pinned day's partition
    day = PINNED_NOW.strftime("%Y/%m/%d")
    keys = list(lake_objects(stack))
    assert keys
    assert all(day in key for key in keys), keys
