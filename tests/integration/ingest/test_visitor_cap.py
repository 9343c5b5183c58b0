"""The per-visitor rate cap through the ingest handler on the local stack: the excess is left
out of the lake, counted in the answer and the EventsOverVisitorCap metric, other visitors unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recs.pseudonyms import Pseudonymizer
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from tests.helpers import body_of
from tests.integration.ingest.lake import dynamodb_throttled, lake_records, post
from tests.integration.serving.world import emf_metrics

PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
CAP = 5


@pytest.fixture
def capped() -> Iterator[LocalStack]:
    """A stack whose ingest function accepts CAP events per visitor per hour (VisitorEventsPerHour)."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", "VisitorEventsPerHour": str(CAP)}) as local:
        yield local


def _view(n: int, user: str) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": (datetime.now(UTC) - timedelta(seconds=30)).isoformat(),
        "userId": user,
        "productId": f"sku_{n:05d}",
    }


def test_a_visitor_s_events_past_the_cap_are_not_in_the_lake_and_are_counted(
    capped: LocalStack, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capfd.readouterr()
    # Given a cap of 5 events per visitor per hour (the pinned clock stays inside one hour),
    # and one client that sends 4 events as user_000001, then 4 more with 2 of user_000002's
    first = post(capped, {"events": [_view(n, "user_000001") for n in range(4)]})
    second = post(
        capped,
        {
            "events": [_view(n, "user_000001") for n in range(4, 8)]
            + [_view(n, "user_000002") for n in range(8, 10)]
        },
    )
    # Then the first request is within the cap; the second's one event fills it, the other three
    # are counted over it (and accepted: re-sending them would not help)
    assert first["statusCode"] == second["statusCode"] == 202
    assert body_of(first)["overCap"] == 0
    answer = body_of(second)
    assert (answer["accepted"], answer["rejectedCount"], answer["overCap"]) == (6, 0, 3)
    # And the lake holds user_000001's first 5 events only, and every one of user_000002's
    by_user: dict[str, set[str]] = {}
    for record in lake_records(capped):
        by_user.setdefault(record["userId"], set()).add(record["productId"])
    assert by_user[PSEUDONYMS.user("user_000001")] == {f"sku_{n:05d}" for n in range(5)}
    assert by_user[PSEUDONYMS.user("user_000002")] == {"sku_00008", "sku_00009"}
    # And the metric counts the excess
    documents = emf_metrics(capfd.readouterr().out)
    assert [d["EventsOverVisitorCap"][0] for d in documents if "EventsOverVisitorCap" in d] == [3.0]


def test_with_the_state_table_down_every_event_reaches_the_lake(capped: LocalStack) -> None:
    # Given a cap of 5 and a state table that refuses every call
    events = [_view(n, "user_000001") for n in range(CAP + 3)]
    # When a visitor sends more events than the cap
    with dynamodb_throttled():
        response = post(capped, {"events": events})
    # Then the cap fails open: every event is stored, none counted over the cap
    assert response["statusCode"] == 202
    assert body_of(response)["overCap"] == 0
    assert len([r for r in lake_records(capped) if r.get("productId")]) == CAP + 3
