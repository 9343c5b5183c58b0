"""An anonymous visitor's rights on the local stack, exercised with a signed anonymous id by its
holder only: opt-out (serving, the session signal, training) and erasure (live stores at once;
lake, artifacts and receipt at the next run; never back in a model), with forged and other
visitors' ids refused, and a signed-in user's events on that browser kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from recs.store_layout import session_key, tombstone_key, user_pk, version_sk
from recs.visitor_ids import VISITOR_HEADER
from recs_tools.local.stack import LocalStack
from tests.integration.privacy.stores import find, store_texts
from tests.integration.privacy.support import (
    function_logs,
    is_personalized,
    issue_visitor_id,
    most_active_linked_user,
    post_events,
    recommendations,
    view_now,
    visitor_call,
)
from tests.integration.training.support import (
    PSEUDONYMS,
    artifact,
    ingest_shop,
    model_row,
    upload_catalog,
)

RECEIPT_ROUTE = "/api/visitor/erasures/{receiptId}"


def _state_row(stack: LocalStack, key: tuple[str, str]) -> dict[str, Any] | None:
    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.physical["StateTable"], Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
        .get("Item")
    )
    return dict(item) if item else None


def _history(anon: str, products: list[str], first: int, *, user: str | None = None) -> list[dict[str, Any]]:
    """Views and a purchase over the last hours (inside the training window), one per product."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    events = []
    for n, product in enumerate(products):
        event = view_now(first + n, product, user=user, anon=anon)
        event["timestamp"] = (start + timedelta(minutes=10 * n)).isoformat().replace("+00:00", "Z")
        event["eventType"] = "purchase" if n == len(products) - 1 else "view"
        if event["eventType"] == "purchase":
            event["quantity"] = 1
        events.append(event)
    return events


def _trained_ids(stack: LocalStack) -> tuple[str, list[str]]:
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    version = json.loads(execution["output"])["modelVersion"]
    return version, json.loads(artifact(stack, f"models/{version}/model/ids.json"))["users"]


def _lake_records(stack: LocalStack) -> list[dict[str, Any]]:
    prefix = f"s3://{stack.physical['EventLakeBucket']}/"
    return [
        json.loads(line)
        for where, text in store_texts(stack)
        if where.startswith(prefix)
        for line in text.split(" ", 1)[1].splitlines()
        if line.strip()
    ]


def _forged(anon_id: str) -> str:
    last = "A" if anon_id[-1] != "A" else "B"
    return anon_id[:-1] + last


def _receipt(stack: LocalStack, receipt_id: str, anon_id: str | None) -> tuple[int, Any]:
    return visitor_call(
        stack,
        "GET",
        RECEIPT_ROUTE,
        anon_id,
        path=f"/api/visitor/erasures/{receipt_id}",
        params={"receiptId": receipt_id},
    )


def _header_named(body: Any) -> bool:
    return VISITOR_HEADER in {e["field"] for e in body.get("errors", [])}


def test_an_anonymous_visitor_opts_out_and_erases_with_their_signed_id_only(stack: LocalStack) -> None:
    # Given a trained shop, two anonymous visitors with signed ids (A with a history of their own,
    # B a bystander), and a third signed id X on which a user U logged in after browsing
    shop = ingest_shop(stack)
    upload_catalog(stack, shop)
    products = [str(p["id"]) for p in shop.catalog()][:6]
    anon_a, anon_b, anon_x = (issue_visitor_id(stack) for _ in range(3))
    user_u, _ = most_active_linked_user(shop)
    a, x, u = PSEUDONYMS.anon(anon_a), PSEUDONYMS.anon(anon_x), PSEUDONYMS.user(user_u)
    post_events(
        stack,
        _history(anon_a, products[:5], 100)
        + _history(anon_x, products[2:4], 200)
        + _history(anon_x, products[4:6], 300, user=user_u),
    )
    version, ids = _trained_ids(stack)
    assert a in ids  # A is trained on: the opt-out below has something to take away
    assert model_row(stack, user_pk(u), version_sk(version)) is not None

    # And A's live session personalizes A's page
    post_events(stack, [view_now(400, products[0], anon=anon_a)])
    status, served = recommendations(stack, anonId=anon_a)
    assert status == 200
    assert served["source"] == "session"

    # When a forged id, an old tracker's unsigned id or no id at all tries to opt A out
    opt_out = {"preferences": {"recommendations": False}}
    for bad in (_forged(anon_a), "a_3f2b8c1e-0d4a-4b6e-9f1a-2c3d4e5f6a7b", None):
        status, body = visitor_call(stack, "PUT", "/api/visitor/preferences", bad, body=opt_out)
        # Then 401, naming the header, and nothing changes
        assert status == 401, body
        assert _header_named(body)
    status, served = recommendations(stack, anonId=anon_a)
    assert served["source"] == "session"

    # When A's holder opts out
    status, body = visitor_call(stack, "PUT", "/api/visitor/preferences", anon_a, body=opt_out)
    assert status == 200, body
    assert anon_a not in json.dumps(body)
    # Then A's very next requests are not personal, in every context, and A's events feed no session
    for query in ({}, {"context": "product-page", "productId": products[1]}, {"context": "cart"}):
        status, served = recommendations(stack, anonId=anon_a, **query)
        assert status == 200
        assert not is_personalized(stack, served, **query), served
    post_events(stack, [view_now(401, products[1], anon=anon_a)])
    row = _state_row(stack, session_key(a))
    assert row is None or json.loads(row["d"]["S"]) == []
    # And B (another signed id) still has the default preference: A's opt-out is A's alone
    assert visitor_call(stack, "GET", "/api/visitor/privacy", anon_b)[1]["preferences"] == {
        "recommendations": True
    }
    assert visitor_call(stack, "GET", "/api/visitor/privacy", anon_a)[1]["preferences"] == {
        "recommendations": False
    }
    # And the next training run leaves A out
    _, ids = _trained_ids(stack)
    assert a not in ids

    # When A's holder asks for erasure, and X's holder too (and a forged id tries, which is logged)
    with function_logs(stack) as logs:
        status, accepted = visitor_call(stack, "POST", "/api/visitor/erasure", anon_a)
        assert status == 202, accepted
        assert accepted["status"] == "pending"
        receipt_id = accepted["receiptId"]
        assert visitor_call(stack, "POST", "/api/visitor/erasure", anon_x)[0] == 202
        assert visitor_call(stack, "POST", "/api/visitor/erasure", _forged(anon_a))[0] == 401
    # Then the privacy function logged the receipt, never an anonymous id
    assert receipt_id in logs.getvalue()
    assert [raw for raw in (anon_a, anon_x, _forged(anon_a)) if raw in logs.getvalue()] == []
    # Then A's tombstone is stored, and the live stores hold nothing of A any more
    assert _state_row(stack, tombstone_key(PSEUDONYMS.tombstone(a))) is not None
    live = [
        (where, text) for where, text in store_texts(stack) if not where.startswith(("s3://", "execution"))
    ]
    assert find(stack, [a, anon_a], live) == []
    # And only A's holder can read the receipt: B's id gets 404, a forged id or none 401
    assert _receipt(stack, receipt_id, anon_a)[0] == 200
    assert _receipt(stack, receipt_id, anon_b)[0] == 404
    status, body = _receipt(stack, receipt_id, _forged(anon_a))
    assert status == 401
    assert _header_named(body)
    assert _receipt(stack, receipt_id, None)[0] == 401

    # When the training workflow runs (its first step purges)
    version, ids = _trained_ids(stack)
    # Then the receipt is completed with A's lake records removed
    status, done = _receipt(stack, receipt_id, anon_a)
    assert status == 200
    assert done["status"] == "completed"
    assert done["removed"]["lakeRecords"] >= 5
    # And no store (tables, cache, lake, artifacts, workflow history) holds A's or X's id or pseudonym
    assert find(stack, [anon_a, a, anon_x, x]) == []
    # And U's events made on X's browser are still U's (X's own anonymous events are gone), and U
    # is still trained on and served: an anonymous erasure erases nobody else
    assert model_row(stack, user_pk(u), version_sk(version)) is not None
    assert u in ids
    on_x = {e["eventId"] for e in _history(anon_x, products[4:6], 300, user=user_u)}
    kept = [record for record in _lake_records(stack) if record.get("eventId") in on_x]
    assert len(kept) == 2
    assert all(record["userId"] == u and "anonId" not in record for record in kept)

    # When a late copy of A's old event arrives and training runs again
    post_events(stack, [{**_history(anon_a, products[:1], 500)[0]}])
    _, ids = _trained_ids(stack)
    # Then A never comes back into a model, and that run's purge swept the late record
    assert a not in ids
    assert find(stack, [anon_a, a]) == []
