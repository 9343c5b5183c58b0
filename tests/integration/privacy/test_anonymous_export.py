"""An anonymous visitor's data export on the local stack, with the signed anonymous id: the
document (the id's preference, session and own anonymous events; never the events of a user who
signed in on that browser), the holder alone fetching it (another id, a user's receipt, a forged id
refused), its expiry, and the id's erasure deleting it.

As in test_export.py, moto's Lambda runs the export job before the POST answers, and the presigned
URL is fetched with `requests`, which moto intercepts in this process.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import requests
import time_machine

from recs.visitor_ids import VISITOR_HEADER
from recs_tools.local.stack import LocalStack
from tests.integration.privacy.support import (
    export_objects,
    export_receipt,
    issue_visitor_id,
    post_events,
    request_export,
    view_now,
    visitor_call,
)
from tests.integration.serving.world import PSEUDONYMS, RICH_USER, World

RECEIPT_ROUTE = "/api/visitor/exports/{receiptId}"


def _request(stack: LocalStack, anon_id: str | None) -> tuple[int, Any]:
    return visitor_call(stack, "POST", "/api/visitor/export", anon_id)


def _receipt(stack: LocalStack, receipt_id: str, anon_id: str | None) -> tuple[int, Any]:
    return visitor_call(
        stack,
        "GET",
        RECEIPT_ROUTE,
        anon_id,
        path=f"/api/visitor/exports/{receipt_id}",
        params={"receiptId": receipt_id},
    )


def _forged(anon_id: str) -> str:
    return anon_id[:-1] + ("A" if anon_id[-1] != "A" else "B")


def _download(url: str) -> dict[str, Any]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _ready(stack: LocalStack, anon_id: str) -> str:
    status, accepted = _request(stack, anon_id)
    assert status == 202, accepted
    receipt_id: str = accepted["receiptId"]
    return receipt_id


def test_an_anonymous_visitor_exports_their_own_data_and_nothing_of_the_user_who_signed_in(
    stack: LocalStack,
) -> None:
    # Given a published model, and on one browser (a signed id) anonymous views, then a view made
    # signed in as RICH_USER (which links the id to the user), and another browser's view
    World(stack).publish_everything()
    anon, other = issue_visitor_id(stack), issue_visitor_id(stack)
    post_events(
        stack,
        [
            view_now(1, "sku_00001", anon=anon),
            view_now(2, "sku_00002", anon=anon),
            view_now(3, "sku_00003", user=RICH_USER, anon=anon),
            view_now(4, "sku_00004", anon=other),
        ],
    )

    # When the holder asks for an export
    status, accepted = _request(stack, anon)

    # Then a receipt (202, its Location on the visitor's route), pending, expiring after the retention
    assert status == 202, accepted
    assert accepted["status"] == "pending"
    requested_at, expires_at = (
        datetime.fromisoformat(accepted[k].replace("Z", "+00:00")) for k in ("requestedAt", "expiresAt")
    )
    assert expires_at - requested_at == timedelta(days=7)
    assert anon not in json.dumps(accepted)
    # And the holder's GET hands out a short-lived URL; the document is the id's
    status, ready = _receipt(stack, accepted["receiptId"], anon)
    assert (status, ready["status"]) == (200, "ready")
    document = _download(ready["url"])
    mine = PSEUDONYMS.anon(anon)
    assert document["subject"] == {"anonymousPseudonym": mine}
    assert [e["productId"] for e in document["events"]] == ["sku_00001", "sku_00002"]
    assert all("userId" not in e and e["anonId"] == mine for e in document["events"])
    assert document["lists"]["personal"] == []
    assert "no personal list" in document["lists"]["note"]
    # And the session signal is the anonymous views only (the signed-in view fed it too: left out)
    assert {s["productId"] for s in document["session"]} == {"sku_00001", "sku_00002"}
    # And nothing of the user, of the other browser, and no raw id
    text = json.dumps(document)
    for absent in (PSEUDONYMS.user(RICH_USER), RICH_USER, PSEUDONYMS.anon(other), anon, "sku_00003"):
        assert absent not in text


def test_only_the_holder_fetches_an_anonymous_export_and_a_forged_id_is_refused(stack: LocalStack) -> None:
    # Given an export of one signed id, another signed id, and a user's export
    anon, other = issue_visitor_id(stack), issue_visitor_id(stack)
    receipt_id = _ready(stack, anon)
    status, users = request_export(stack, RICH_USER)
    assert status == 202
    # When a forged id, an unsigned one or none asks for an export / Then 401 naming the header
    objects_before = len(export_objects(stack))
    for bad in (_forged(anon), "a_3f2b8c1e-0d4a-4b6e-9f1a-2c3d4e5f6a7b", None):
        status, body = _request(stack, bad)
        assert status == 401, body
        assert VISITOR_HEADER in {e["field"] for e in body["errors"]}
    assert len(export_objects(stack)) == objects_before
    # And the receipt: 404 for another id (not whose it is), 401 for a forged id or none
    status, body = _receipt(stack, receipt_id, other)
    assert status == 404
    assert "url" not in json.dumps(body)
    assert _receipt(stack, receipt_id, _forged(anon))[0] == 401
    assert _receipt(stack, receipt_id, None)[0] == 401
    # And a user's receipt is 404 on the visitor's route, and the visitor's 404 on the user's
    # route (where, with authorization off as here, a user's receipt id alone would do)
    assert _receipt(stack, users["receiptId"], anon)[0] == 404
    assert export_receipt(stack, receipt_id)[0] == 404
    assert export_receipt(stack, users["receiptId"])[0] == 200
    # And the holder gets the URL
    status, ready = _receipt(stack, receipt_id, anon)
    assert (status, ready["status"]) == (200, "ready")


def test_an_anonymous_export_answers_410_after_its_retention(stack: LocalStack) -> None:
    # Given a ready anonymous export
    anon = issue_visitor_id(stack)
    receipt_id = _ready(stack, anon)
    status, ready = _receipt(stack, receipt_id, anon)
    assert (status, ready["status"]) == (200, "ready")
    expires_at = datetime.fromisoformat(ready["expiresAt"].replace("Z", "+00:00"))
    # When the retention has passed, counted from the receipt's own expiresAt (the process clock
    # ticks on from PINNED_NOW by however long the tests before this one took)
    with time_machine.travel(expires_at + timedelta(minutes=1), tick=True):
        status, gone = _receipt(stack, receipt_id, anon)
    # Then 410 Gone, without a URL
    assert (status, gone["status"]) == (410, "expired")
    assert "url" not in gone


def test_the_ids_erasure_deletes_its_exports_and_not_the_users(stack: LocalStack) -> None:
    # Given a ready export of a signed id, and one of a user who signed in on that browser
    anon = issue_visitor_id(stack)
    post_events(stack, [view_now(1, "sku_00001", user=RICH_USER, anon=anon)])
    mine = _ready(stack, anon)
    status, users = request_export(stack, RICH_USER)
    assert status == 202
    assert len(export_objects(stack)) == 2
    # When the holder erases the id
    status, erasure = visitor_call(stack, "POST", "/api/visitor/erasure", anon)
    # Then the export object is deleted at once and counted, and its receipt is no more
    assert status == 202, erasure
    assert erasure["removed"]["exportObjects"] == 1
    assert [k for k in export_objects(stack) if PSEUDONYMS.anon(anon) in k] == []
    assert _receipt(stack, mine, anon)[0] == 404
    # And the user's export is untouched
    assert [k for k in export_objects(stack) if PSEUDONYMS.user(RICH_USER) in k]
    assert export_receipt(stack, users["receiptId"])[0] == 200
