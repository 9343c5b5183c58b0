"""Valid events sent == distinct records in the lake, with Firehose failing part of every call and
then down, the client re-sending what was answered 503 (the figure of docs/reliability.md, in a
small size)."""

from __future__ import annotations

from bench.reliability.lake import measure


def test_no_valid_event_is_lost_and_no_invalid_one_is_stored() -> None:
    # Given 3000 seeded events (one in 50 invalid) posted through partial failures, an outage
    # and a healthy end
    figures = measure(3000, seed=12)
    # Then Firehose really failed records and the outage really refused batches
    assert figures["recordsFailedByFirehose"] > 0
    assert figures["answers"].get("outage:503", 0) > 0
    assert figures["batchesResent"] == figures["batchesAnswered503"]
    # And every valid event sent is in the lake, none lost, no invalid one stored
    assert figures["validEventsSent"] == 2940
    assert figures["validEventsInLake"] == figures["validEventsSent"]
    assert figures["lost"] == 0
    assert figures["invalidInLake"] == 0
    assert figures["validEventsSentEqualsDistinctInLake"] is True
