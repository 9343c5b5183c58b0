"""Prepare on the local stack keeps each closed lake day as Parquet in the artifact bucket, reads
it on the next run instead of the day's JSON, and the erasure purge deletes the copy of a day
whose objects it rewrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recs.store_layout import PREPARED_DAYS_PREFIX
from recs_tools.local.stack import LocalStack
from tests.helpers import load_event
from tests.integration.privacy.stores import find
from tests.integration.privacy.support import most_active_linked_user, request_erasure
from tests.integration.training.support import PSEUDONYMS, ingest_shop

#: How the stats of a Prepare run differ between a run that decoded a day and one that read it.
DAY_STATS = ("daysFromParquet", "daysDecoded", "daysWritten", "lakeObjectsDecoded", "dayFilesDeleted")


def _prepare(stack: LocalStack, name: str) -> dict[str, Any]:
    job = {"executionName": name, "startedAt": datetime.now(UTC).isoformat()}
    stats: dict[str, Any] = stack.invoke("PrepareFunction", {"step": "prepare", "job": job})["stats"]
    return stats


def _arrived_days_ago(stack: LocalStack, days: int) -> str:
    """File every lake object under the arrival day ``days`` ago (as if Firehose had delivered it
    then: that day is closed); returns the day, ``YYYY/MM/DD``."""
    s3, bucket = stack.client("s3"), stack.physical["EventLakeBucket"]
    day = datetime.now(UTC) - timedelta(days=days)
    for listed in s3.list_objects_v2(Bucket=bucket, Prefix="events/").get("Contents", []):
        key = listed["Key"]
        moved = f"events/{day:%Y/%m/%d}/" + key.removeprefix("events/")[11:]
        s3.copy_object(Bucket=bucket, Key=moved, CopySource={"Bucket": bucket, "Key": key})
        s3.delete_object(Bucket=bucket, Key=key)
    return f"{day:%Y/%m/%d}"


def _kept(stack: LocalStack) -> list[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.physical["ArtifactBucket"], Prefix=PREPARED_DAYS_PREFIX
    )
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_a_closed_day_is_decoded_once_and_read_from_parquet_after(stack: LocalStack) -> None:
    # Given a shop's events that arrived two days ago (a closed day)
    ingest_shop(stack)
    day = _arrived_days_ago(stack, 2)
    # When Prepare runs
    first = _prepare(stack, "first")
    # Then it decoded the day and kept it as Parquet
    assert (first["daysDecoded"], first["daysWritten"], first["daysFromParquet"]) == (1, 1, 0)
    (kept,) = _kept(stack)
    assert kept.startswith(f"{PREPARED_DAYS_PREFIX}{day}/")
    # When Prepare runs again
    second = _prepare(stack, "second")
    # Then it read the day from Parquet, decoded no lake object, and built the same interactions
    assert (second["daysFromParquet"], second["daysDecoded"], second["lakeObjectsDecoded"]) == (1, 0, 0)
    assert {k: v for k, v in second.items() if k not in DAY_STATS} == {
        k: v for k, v in first.items() if k not in DAY_STATS
    }


def test_the_purge_deletes_the_kept_copy_of_a_day_it_rewrote(stack: LocalStack) -> None:
    # Given a closed day kept by Prepare, holding a user who asks for erasure
    shop = ingest_shop(stack)
    _arrived_days_ago(stack, 2)
    before = _prepare(stack, "before")
    assert _kept(stack)
    user, anon = most_active_linked_user(shop)
    pseudonyms = [PSEUDONYMS.user(user), PSEUDONYMS.anon(anon)]
    assert [
        f for f in find(stack, pseudonyms) if f.where.startswith("s3://") and PREPARED_DAYS_PREFIX in f.where
    ]
    assert request_erasure(stack, user)[0] == 202
    # When the workflow's purge step runs
    report = stack.invoke("PurgeFunction", load_event("privacy_purge"))
    # Then the day's kept copy is gone with the user's records, and nothing in S3 names them
    assert report["preparedDayFilesDeleted"] == 1
    assert _kept(stack) == []
    assert [f for f in find(stack, pseudonyms) if f.where.startswith("s3://")] == []
    # When Prepare runs again / Then it decodes the day from the clean lake, without the user
    after = _prepare(stack, "after")
    assert after["daysDecoded"] == 1
    assert after["interactions"] < before["interactions"]
    assert len(_kept(stack)) == 1
    assert [f for f in find(stack, pseudonyms) if f.where.startswith("s3://")] == []
