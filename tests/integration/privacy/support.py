"""Helpers of the privacy tests: the privacy and recommend routes invoked as API Gateway would."""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from recs import lake_format
from recs.training.prepare.lake import decode_object
from recs.visitor_ids import VISITOR_HEADER
from recs_tools.local.gateway_events import build_http_api_event
from recs_tools.local.stack import LocalStack
from recs_tools.synthetic import SyntheticShop
from tests.helpers import body_of

#: Sources built from the shopper's own history or session (recs.serving.sources).
PERSONAL_SOURCES = {"user", "session"}


def call(
    stack: LocalStack,
    function: str,
    method: str,
    path: str,
    route: str,
    *,
    params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Invoke a function with the HTTP API event of one request; (status, parsed body)."""
    event = build_http_api_event(
        method=method,
        raw_path=path,
        raw_query=urlencode(query or {}),
        headers={"content-type": "application/json", **(headers or {})},
        body=json.dumps(body).encode() if body is not None else b"",
        route_path=route,
        path_parameters=params or {},
        authorizer={"jwt": {"claims": claims, "scopes": None}} if claims else None,
    )
    response = stack.invoke(function, event)
    return int(response["statusCode"]), body_of(response)


def set_preference(stack: LocalStack, user: str, recommendations: bool) -> tuple[int, Any]:
    return call(
        stack,
        "PrivacyFunction",
        "PUT",
        f"/api/users/{user}/preferences",
        "/api/users/{userId}/preferences",
        params={"userId": user},
        body={"preferences": {"recommendations": recommendations}},
    )


def request_erasure(stack: LocalStack, user: str, anon_ids: list[str] | None = None) -> tuple[int, Any]:
    return call(
        stack,
        "PrivacyFunction",
        "POST",
        f"/api/users/{user}/erasure",
        "/api/users/{userId}/erasure",
        params={"userId": user},
        body={"anonIds": anon_ids} if anon_ids else None,
    )


def receipt(stack: LocalStack, receipt_id: str) -> tuple[int, Any]:
    return call(
        stack,
        "PrivacyFunction",
        "GET",
        f"/api/erasures/{receipt_id}",
        "/api/erasures/{receiptId}",
        params={"receiptId": receipt_id},
    )


def request_export(stack: LocalStack, user: str, claims: dict[str, str] | None = None) -> tuple[int, Any]:
    return call(
        stack,
        "PrivacyFunction",
        "POST",
        f"/api/users/{user}/export",
        "/api/users/{userId}/export",
        params={"userId": user},
        claims=claims,
    )


def export_receipt(
    stack: LocalStack, receipt_id: str, claims: dict[str, str] | None = None
) -> tuple[int, Any]:
    return call(
        stack,
        "PrivacyFunction",
        "GET",
        f"/api/exports/{receipt_id}",
        "/api/exports/{receiptId}",
        params={"receiptId": receipt_id},
        claims=claims,
    )


def issue_visitor_id(stack: LocalStack) -> str:
    """A signed anonymous id, as the tracker gets it (POST /api/visitors)."""
    status, body = call(stack, "PrivacyFunction", "POST", "/api/visitors", "/api/visitors")
    assert status == 201, body
    return str(body["anonId"])


def visitor_call(
    stack: LocalStack,
    method: str,
    route: str,
    anon_id: str | None,
    *,
    path: str | None = None,
    params: dict[str, str] | None = None,
    body: Any = None,
) -> tuple[int, Any]:
    """An anonymous visitor's privacy route, the id in X-Recs-Visitor (none: no header)."""
    return call(
        stack,
        "PrivacyFunction",
        method,
        path or route,
        route,
        params=params,
        body=body,
        headers={VISITOR_HEADER: anon_id} if anon_id is not None else None,
    )


def export_objects(stack: LocalStack) -> dict[str, bytes]:
    """Every object of the export bucket."""
    s3 = stack.client("s3")
    bucket = stack.physical["ExportBucket"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def recommendations(stack: LocalStack, **query: str) -> tuple[int, Any]:
    return call(
        stack, "RecommendFunction", "GET", "/api/recommendations", "/api/recommendations", query=query
    )


def is_personalized(stack: LocalStack, served: dict[str, Any], **query: str) -> bool:
    """Whether a response differs from what a shopper without any id gets for the same page, or
    came from a personal source: nothing personal is served exactly when neither holds."""
    status, anonymous = recommendations(stack, **query)
    assert status == 200, anonymous
    products = [(p["id"], p["score"], p.get("reason")) for p in served["products"]]
    baseline = [(p["id"], p["score"], p.get("reason")) for p in anonymous["products"]]
    return served.get("source") in PERSONAL_SOURCES or products != baseline


def post_events(stack: LocalStack, events: list[dict[str, Any]]) -> None:
    status, body = call(
        stack, "IngestFunction", "POST", "/api/events", "/api/events", body={"events": events}
    )
    assert status == 202, body


def view_now(n: int, product: str, *, user: str | None = None, anon: str | None = None) -> dict[str, Any]:
    """A view happening now (it feeds the session signal)."""
    event: dict[str, Any] = {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "productId": product,
        "sessionId": f"sess_now_{n}",
    }
    if user:
        event["userId"] = user
    if anon:
        event["anonId"] = anon
    return event


def most_active_linked_user(shop: SyntheticShop) -> tuple[str, str]:
    """(user id, anonymous id) of the most active user who also browsed anonymously."""
    activity = Counter(str(e["userId"]) for e in shop.events if e.get("userId"))
    linked = {user: anon for anon, user in shop.anon_to_user.items()}
    user = max(linked, key=lambda u: (activity[u], u))
    return user, linked[user]


def lake_objects(stack: LocalStack) -> dict[str, bytes]:
    """Every object of the event lake, by key."""
    s3 = stack.client("s3")
    bucket = stack.physical["EventLakeBucket"]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def lake_records(data: bytes) -> list[dict[str, Any]]:
    """A lake object's records, whichever its format (Parquet, gzip or plain NDJSON): the lake
    reader Prepare's record path and the reports use."""
    return list(decode_object(data))


def lake_format_of(data: bytes) -> str:
    """``parquet``, ``gzip`` (NDJSON) or ``plain`` (NDJSON)."""
    if lake_format.is_parquet(data):
        return "parquet"
    return "gzip" if data[:2] == b"\x1f\x8b" else "plain"


def mix_lake_formats(
    stack: LocalStack,
    formats: tuple[str, ...] = ("parquet", "gzip", "plain"),
    first: Collection[str] = (),
) -> dict[str, str]:
    """Rewrite the lake's objects in turn in each of `formats`, same records, same keys: Parquet
    as Firehose's record format conversion writes it (`recs.lake_format`), gzip NDJSON as Firehose
    wrote before the conversion, plain NDJSON as moto's Firehose writes without it. Whatever the
    local stack's Firehose delivers, the lake then mixes them. The keys in ``first`` take the
    formats in turn before the others, so that they span every format whatever the lake's keys
    (moto names its objects by the time of delivery and a random suffix). Returns each key's
    format."""
    s3 = stack.client("s3")
    bucket = stack.physical["EventLakeBucket"]
    objects = lake_objects(stack)
    ordered = sorted(objects, key=lambda key: (key not in first, key))
    for n, key in enumerate(ordered):
        data = objects[key]
        wanted = formats[n % len(formats)]
        if wanted == lake_format_of(data):
            continue
        records = lake_records(data)
        text = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
        if wanted == "parquet":
            body = lake_format.encode_records(records)
        else:
            body = gzip.compress(text) if wanted == "gzip" else text
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {key: lake_format_of(data) for key, data in lake_objects(stack).items()}


def _point(handler: logging.StreamHandler[Any], stream: Any) -> None:
    """Swap a handler's stream without `setStream`'s flush of the old one: the old one may be an
    earlier test's capture, closed by now (the logger kept the stream of its first use)."""
    handler.acquire()
    try:
        handler.stream = stream
    finally:
        handler.release()


@contextmanager
def function_logs(stack: LocalStack, level: int = logging.INFO) -> Iterator[io.StringIO]:
    """Everything the stack's functions log at `level` (the template's default) while the block runs.

    Powertools keeps one logger per service for the whole process, with the stream and level of
    its first initialisation (an earlier test's stack), so the handlers are pointed at a buffer
    and the level is set here (after loading every function, as its cold start would) rather
    than relying on pytest's capture.
    """
    for function in stack.functions.values():
        function.load()
    services = {f.environment.get("POWERTOOLS_SERVICE_NAME") for f in stack.functions.values()}
    loggers = [logging.getLogger(service) for service in sorted(s for s in services if s)]
    handlers = [h for lg in loggers for h in lg.handlers if isinstance(h, logging.StreamHandler)]
    buffer = io.StringIO()
    streams = [(handler, handler.stream) for handler in handlers]
    levels = [(lg, lg.level) for lg in loggers]
    for handler in handlers:
        _point(handler, buffer)
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield buffer
    finally:
        for handler, stream in streams:
            _point(handler, stream)
        for lg, previous in levels:
            lg.setLevel(previous)
