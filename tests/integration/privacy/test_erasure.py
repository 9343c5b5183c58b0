"""Erasure end to end on the local stack: immediate removal from the live stores, the purge step
of the training workflow (lake, artifacts, receipt), and no way back into a model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recs.store_layout import user_pk, version_sk
from recs_tools.local.stack import LocalStack
from tests.helpers import load_event
from tests.integration.privacy.stores import find, store_texts
from tests.integration.privacy.support import (
    is_personalized,
    lake_format_of,
    lake_objects,
    lake_records,
    mix_lake_formats,
    most_active_linked_user,
    post_events,
    receipt,
    recommendations,
    request_erasure,
    set_preference,
    view_now,
)
from tests.integration.training.support import (
    PSEUDONYMS,
    artifact,
    entered_states,
    ingest_shop,
    model_rows,
    pointer,
    train_pipeline,
    upload_catalog,
)


def _trained(stack: LocalStack) -> Any:
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    mix_lake_formats(stack)
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    return shop


def test_an_erasure_leaves_no_trace_anywhere_and_the_next_runs_do_not_bring_the_user_back(
    stack: LocalStack,
) -> None:
    # Given a trained shop (its lake Parquet, gzip and plain NDJSON objects in turn) and an active
    # user who also browsed anonymously, with a warm cache, a live session and a served
    # personalized list
    shop = _trained(stack)
    user, anon = most_active_linked_user(shop)
    user_pseudonym, anon_pseudonym = PSEUDONYMS.user(user), PSEUDONYMS.anon(anon)
    post_events(stack, [view_now(1, "sku_00001", user=user), view_now(2, "sku_00002", anon=anon)])
    for _ in range(2):
        status, served = recommendations(stack, userId=user, anonId=anon)
        assert status == 200
        assert is_personalized(stack, served)
    assert find(stack, [user_pseudonym, anon_pseudonym])  # the test looks for something that is there

    # When the user asks for erasure
    status, accepted = request_erasure(stack, user)

    # Then a receipt comes back at once, pending
    assert status == 202
    assert accepted["status"] == "pending"
    assert accepted["removed"]["modelRows"] >= 1
    # And DynamoDB and Redis hold nothing of the user any more; their next request is not personal
    live = [
        (where, text) for where, text in store_texts(stack) if not where.startswith(("s3://", "execution"))
    ]
    assert find(stack, [user_pseudonym, user], live) == []
    status, served = recommendations(stack, userId=user)
    assert status == 200
    assert not is_personalized(stack, served)

    # When the training workflow runs (its first step purges)
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")

    # Then the receipt is completed with what was removed
    status, done = receipt(stack, accepted["receiptId"])
    assert status == 200
    assert done["status"] == "completed"
    assert done["removed"]["lakeRecords"] > 0
    assert done["removed"]["lakeObjects"] > 0
    assert done["removed"]["artifactObjects"] > 0
    assert done["removed"]["linkedAnonymousIds"] == 1
    # And no store (tables, cache, lake incl. gzip objects, artifacts, workflow history) holds the
    # raw ids or the pseudonyms of the user or of their linked anonymous id
    assert find(stack, [user, user_pseudonym, anon, anon_pseudonym]) == []

    # When a late copy of an old event of the user arrives, and training runs again
    late = next(e for e in shop.events if e.get("userId") == user and e.get("productId"))
    post_events(stack, [{**late, "eventId": "00000000-0000-4000-8000-00000000feed"}])
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    # Then the new version has neither rows nor model rows for them
    version = json.loads(execution["output"])["modelVersion"]
    assert not [r for r in model_rows(stack) if r["pk"] == user_pk(user_pseudonym)]
    ids = json.loads(artifact(stack, f"models/{version}/model/ids.json"))["users"]
    assert user_pseudonym not in ids
    assert anon_pseudonym not in ids
    # And that run's purge, with no erasure pending, swept the late record from the lake (and the
    # session signal it recreated): again no store holds anything of the user
    assert find(stack, [user, user_pseudonym, anon, anon_pseudonym]) == []


def test_an_erasure_during_a_training_run_is_honoured_before_the_flip(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a trained shop, and a run during which (after Prepare read the exclusions) the most
    # active user asks for erasure and another user opts out
    shop = _trained(stack)
    user, _ = most_active_linked_user(shop)
    other = next(u for u in shop.users if u != user and u not in shop.opted_out_user_ids)
    pipeline = train_pipeline(stack)
    real_train = pipeline.train

    def train_after_requests(job: dict[str, Any], **options: Any) -> dict[str, Any]:
        assert request_erasure(stack, user)[0] == 202
        assert set_preference(stack, other, False)[0] == 200
        result: dict[str, Any] = real_train(job, **options)
        return result

    monkeypatch.setattr(pipeline, "train", train_after_requests)
    # When the run publishes and flips
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    output = json.loads(execution["output"])
    # Then the flip removed both users' rows of the new version before moving the pointer
    assert output["flipped"]["lateErasures"] == 1
    assert output["flipped"]["lateOptOuts"] == 1
    version = pointer(stack)["modelVersion"]  # type: ignore[index]
    gone = {user_pk(PSEUDONYMS.user(user)), user_pk(PSEUDONYMS.user(other))}
    assert not [r for r in model_rows(stack) if r["pk"] in gone and r["sk"] == version_sk(version)]
    # And the erased user is already gone from the new version's artifacts
    ids = json.loads(artifact(stack, f"models/{version}/model/ids.json"))["users"]
    assert PSEUDONYMS.user(user) not in ids


def test_a_failing_purge_alerts_and_training_still_leaves_the_user_out(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a trained shop and an erasure, then a purge step that fails every attempt
    shop = _trained(stack)
    user, _ = most_active_linked_user(shop)
    status, accepted = request_erasure(stack, user)
    assert status == 202
    purge = stack.function("PurgeFunction").module.purge

    def broken() -> Any:
        raise RuntimeError("simulated purge crash")

    monkeypatch.setattr(purge, "run", broken)
    # When the workflow runs
    execution = stack.run_training()
    # Then it alerts about the purge and still trains and publishes, without the user
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert {"Purge", "NotifyPurgeFailure", "Prepare", "Flip"} <= set(entered_states(stack, execution))
    version = json.loads(execution["output"])["modelVersion"]
    assert (
        PSEUDONYMS.user(user) not in json.loads(artifact(stack, f"models/{version}/model/ids.json"))["users"]
    )
    # And the receipt stays pending until a purge succeeds
    assert receipt(stack, accepted["receiptId"])[1]["status"] == "pending"
    monkeypatch.undo()
    assert stack.run_training()["status"] == "SUCCEEDED"
    assert receipt(stack, accepted["receiptId"])[1]["status"] == "completed"


def test_an_erasure_names_a_browsers_anonymous_id_and_its_session_goes_at_once(stack: LocalStack) -> None:
    # Given an anonymous browser with a live session signal
    post_events(stack, [view_now(3, "sku_00003", anon="anon_browser_1")])
    anon_pseudonym = PSEUDONYMS.anon("anon_browser_1")
    assert find(stack, [anon_pseudonym])
    # When its user asks for erasure naming that browser
    status, accepted = request_erasure(stack, "user_000777", ["anon_browser_1"])
    # Then the browser's session is gone from DynamoDB and Redis at once
    assert status == 202
    assert accepted["removed"]["linkedAnonymousIds"] == 1
    live = [
        (where, text) for where, text in store_texts(stack) if not where.startswith(("s3://", "execution"))
    ]
    assert find(stack, [anon_pseudonym], live) == []


def test_bad_erasure_requests_answer_400_and_unknown_receipts_404(stack: LocalStack) -> None:
    # When the receipt id is malformed, unknown, or the body names a bad anonymous id
    assert receipt(stack, "not-a-receipt")[0] == 400
    assert receipt(stack, "0" * 32)[0] == 404
    status, body = request_erasure(stack, "user_000001", ["bad id with spaces"])
    # Then each answers as such, naming the field
    assert status == 400
    assert body["errors"][0]["field"].startswith("anonIds")


def test_an_erasure_purges_a_lake_mixing_parquet_and_ndjson_objects(stack: LocalStack) -> None:
    # Given a shop's lake mixing Parquet objects (Firehose's record format conversion) with gzip
    # and plain NDJSON ones, and an active user who also browsed anonymously, with records in
    # objects of every format
    shop = ingest_shop(stack)
    user, anon = most_active_linked_user(shop)
    user_pseudonym, anon_pseudonym = PSEUDONYMS.user(user), PSEUDONYMS.anon(anon)

    def names_them(record: dict[str, Any]) -> bool:
        return record.get("userId") == user_pseudonym or record.get("anonId") == anon_pseudonym

    delivered = {key: lake_records(data) for key, data in lake_objects(stack).items()}
    holding = {key for key, records in delivered.items() if any(names_them(r) for r in records)}
    formats = mix_lake_formats(stack, first=holding)
    before = {key: lake_records(data) for key, data in lake_objects(stack).items()}
    assert {formats[key] for key in holding} == {"parquet", "gzip", "plain"}

    # When the user asks for erasure and the purge step runs (the training workflow's first step)
    status, accepted = request_erasure(stack, user)
    assert status == 202
    report = stack.invoke("PurgeFunction", load_event("privacy_purge"))

    # Then the receipt completes with what the lake lost, the browser found through the lake
    expected: dict[str, list[dict[str, Any]]] = {}
    for key, records in before.items():
        kept = [
            {k: v for k, v in r.items() if k != "anonId"} if names_them(r) and r.get("userId") else r
            for r in records
            if not names_them(r) or r.get("userId") not in (None, user_pseudonym)
        ]
        if kept:
            expected[key] = kept
    removed = sum(len(records) for records in before.values()) - sum(map(len, expected.values()))
    assert removed > 0
    assert report["erasuresCompleted"] == 1
    assert report["lakeRecordsRemoved"] == removed
    assert report["linkedAnonymousIds"] == 1
    status, done = receipt(stack, accepted["receiptId"])
    assert status == 200
    assert done["status"] == "completed"
    assert done["removed"]["lakeRecords"] == removed
    assert done["removed"]["lakeObjects"] == len(holding)
    # And every other record is in the lake as it was, each object in its own format
    after = lake_objects(stack)
    assert {key: lake_records(data) for key, data in after.items()} == expected
    assert {key: lake_format_of(data) for key, data in after.items()} == {key: formats[key] for key in after}
    # And no store holds the raw ids or the pseudonyms of the user or of their browser any more
    assert find(stack, [user, user_pseudonym, anon, anon_pseudonym]) == []
