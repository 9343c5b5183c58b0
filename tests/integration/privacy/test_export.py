"""Data export on the local stack: the export's content (preferences, current lists with
reasons, the user's lake events under their pseudonym and a linked anonymous id), who may
request and fetch it, its expiry, and erasure deleting it.

The privacy function invokes the export function asynchronously; moto's Lambda (through the
local stack's shim) runs it before the invocation returns, so the receipt is ready as soon as the
POST has answered. The presigned URL is fetched with `requests`, which moto intercepts in this
process (the object is served by moto's S3 exactly as S3 would serve the URL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine

from recs_tools.local.stack import LocalStack
from tests.integration.privacy.support import (
    export_objects,
    export_receipt,
    mix_lake_formats,
    post_events,
    receipt,
    request_erasure,
    request_export,
    set_preference,
    view_now,
)
from tests.integration.serving.world import PSEUDONYMS, RICH_LIST, RICH_USER, World

OTHER_USER = "user_000002"
ANON, OTHER_ANON = "anon_export_1", "anon_export_2"


def _events() -> list[dict[str, Any]]:
    """The user alone, the user signed in on ANON (which links it), ANON before signing in, and
    another user and another browser."""
    return [
        view_now(1, "sku_00001", user=RICH_USER),
        view_now(2, "sku_00002", user=RICH_USER, anon=ANON),
        view_now(3, "sku_00003", anon=ANON),
        view_now(4, "sku_00004", user=OTHER_USER),
        view_now(5, "sku_00005", anon=OTHER_ANON),
    ]


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def _download(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _ready_export(stack: LocalStack, claims: dict[str, str] | None = None) -> str:
    status, accepted = request_export(stack, RICH_USER, claims)
    assert status == 202, accepted
    receipt_id: str = accepted["receiptId"]
    return receipt_id


def test_an_export_holds_the_users_preferences_lists_with_reasons_and_lake_events(stack: LocalStack) -> None:
    # Given a published model with the user's list, their preference, and events of the user,
    # of their browser before and after they signed in on it, and of other shoppers
    World(stack).publish_everything()
    assert set_preference(stack, RICH_USER, True)[0] == 200
    post_events(stack, _events())

    # When the user asks for an export
    status, accepted = request_export(stack, RICH_USER)

    # Then a receipt comes back, pointing at its URL, pending, expiring after the retention
    assert status == 202
    assert accepted["status"] == "pending"
    assert _at(accepted["expiresAt"]) - _at(accepted["requestedAt"]) == timedelta(days=7)
    # And fetching it gives a short-lived presigned URL (SigV4, 300 s) of the export bucket
    status, ready = export_receipt(stack, accepted["receiptId"])
    assert status == 200, ready
    assert ready["status"] == "ready"
    url = urlsplit(ready["url"])
    query = parse_qs(url.query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert stack.physical["ExportBucket"] in url.netloc + url.path

    # And the document it downloads is the user's data
    document = _download(ready["url"])
    user, anon = PSEUDONYMS.user(RICH_USER), PSEUDONYMS.anon(ANON)
    assert document["subject"]["userPseudonym"] == user
    assert document["subject"]["linkedAnonymousPseudonyms"] == [anon]
    assert document["preferences"]["recommendations"] is True
    assert [(i["productId"], i["score"], i["reason"]) for i in document["lists"]["personal"]] == [
        (p, round(s, 5), r) for p, s, r in RICH_LIST
    ]
    assert any(i["reason"] for i in document["lists"]["personal"])
    events = {e["eventId"][-1]: e for e in document["events"]}
    assert sorted(events) == ["1", "2", "3"]
    assert events["2"]["userId"] == user
    assert events["2"]["anonId"] == anon
    assert events["3"]["productId"] == "sku_00003"
    # And nothing of the other shoppers, and no raw id
    text = json.dumps(document)
    for foreign in (PSEUDONYMS.user(OTHER_USER), PSEUDONYMS.anon(OTHER_ANON), RICH_USER, ANON):
        assert foreign not in text


def test_an_export_reads_the_users_events_from_parquet_lake_objects_as_from_ndjson(stack: LocalStack) -> None:
    # Given a published model with the user's list, their preference, and the events of the user,
    # of their browser and of other shoppers in the lake
    World(stack).publish_everything()
    assert set_preference(stack, RICH_USER, True)[0] == 200
    post_events(stack, _events())

    def exported() -> dict[str, Any]:
        status, accepted = request_export(stack, RICH_USER)
        assert status == 202, accepted
        status, ready = export_receipt(stack, accepted["receiptId"])
        assert (status, ready["status"]) == (200, "ready"), ready
        document = _download(ready["url"])
        for moment in ("receiptId", "requestedAt", "generatedAt"):
            document.pop(moment)
        return document

    # And the user's export while the lake is NDJSON (as Firehose wrote before its conversion)
    assert set(mix_lake_formats(stack, ("plain",)).values()) == {"plain"}
    from_ndjson = exported()
    # When the lake's objects are Parquet, as the conversion writes them, and the user exports again
    assert set(mix_lake_formats(stack, ("parquet",)).values()) == {"parquet"}
    from_parquet = exported()
    # Then the export holds the same events, links, preference and lists from either lake
    assert from_parquet == from_ndjson
    assert sorted(e["eventId"][-1] for e in from_parquet["events"]) == ["1", "2", "3"]
    assert from_parquet["subject"]["linkedAnonymousPseudonyms"] == [PSEUDONYMS.anon(ANON)]


def test_the_receipt_answers_410_once_the_export_has_expired(stack: LocalStack) -> None:
    # Given a ready export
    receipt_id = _ready_export(stack)
    assert export_receipt(stack, receipt_id)[0] == 200
    # When its object is gone before the receipt says so (the lifecycle rule, an operator)
    bucket = stack.physical["ExportBucket"]
    (key,) = export_objects(stack)
    stack.client("s3").delete_object(Bucket=bucket, Key=key)
    # Then the receipt answers 410 Gone
    status, gone = export_receipt(stack, receipt_id)
    assert (status, gone["status"]) == (410, "expired")
    assert "url" not in gone


def test_the_receipt_answers_410_after_the_retention_whatever_s3_still_holds(stack: LocalStack) -> None:
    # Given a ready export, to be kept for the retention (ExportRetentionDays, 7 days)
    receipt_id = _ready_export(stack)
    status, ready = export_receipt(stack, receipt_id)
    expires_at, requested_at = (
        datetime.fromisoformat(ready[k].replace("Z", "+00:00")) for k in ("expiresAt", "requestedAt")
    )
    assert expires_at - requested_at == timedelta(days=7)
    # When the retention has passed (from the request: the process clock has ticked on from
    # PINNED_NOW by however long the tests before this one took)
    with time_machine.travel(expires_at + timedelta(minutes=1), tick=True):
        status, gone = export_receipt(stack, receipt_id)
    # Then 410 Gone, and the bucket's lifecycle rule is the template's
    assert (status, gone["status"]) == (410, "expired")
    rules = stack.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.physical["ExportBucket"])[
        "Rules"
    ]
    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules] == [("exports/", 7)]


def test_erasure_deletes_the_users_exports(stack: LocalStack) -> None:
    # Given a ready export of the user and one of another user
    World(stack).publish_everything()
    post_events(stack, _events())
    mine = _ready_export(stack)
    status, theirs = request_export(stack, OTHER_USER)
    assert status == 202
    assert len(export_objects(stack)) == 2
    # When the user asks for erasure
    status, erasure = request_erasure(stack, RICH_USER)
    # Then their export object is deleted at once and counted, and the receipt is no more
    assert status == 202
    assert erasure["removed"]["exportObjects"] == 1
    remaining = export_objects(stack)
    assert [k for k in remaining if PSEUDONYMS.user(RICH_USER) in k] == []
    assert export_receipt(stack, mine)[0] == 404
    # And the other user's export is still there; the erasure receipt is readable as before
    assert export_receipt(stack, theirs["receiptId"])[0] == 200
    assert receipt(stack, erasure["receiptId"])[0] == 200


@pytest.fixture
def secured_stack() -> Iterator[LocalStack]:
    """Caller authorization on: API Gateway's JWT authorizer verified the token, the function
    checks whose it is (the claims arrive in the event as API Gateway passes them)."""
    overrides = {"LogLevel": "WARNING", "AuthIssuerUrl": "https://issuer.example", "AuthAudience": "shop-app"}
    with LocalStack(parameter_overrides=overrides) as local:
        yield local


def test_only_the_user_may_request_and_fetch_their_export(secured_stack: LocalStack) -> None:
    stack = secured_stack
    me, someone = {"sub": RICH_USER}, {"sub": OTHER_USER}
    # When another shopper asks for the user's export, or anyone without a token
    assert request_export(stack, RICH_USER, someone)[0] == 403
    assert request_export(stack, RICH_USER)[0] == 401
    # Then nothing was started; and with their own token the user gets a receipt
    assert export_objects(stack) == {}
    receipt_id = _ready_export(stack, me)
    # And another shopper fetching that receipt is told it does not exist (404, not 403)
    status, body = export_receipt(stack, receipt_id, someone)
    assert status == 404
    assert "url" not in json.dumps(body)
    # And without a token: 401; with the user's own: the URL
    assert export_receipt(stack, receipt_id)[0] == 401
    status, ready = export_receipt(stack, receipt_id, me)
    assert (status, ready["status"]) == (200, "ready")
