"""From an HTTP request to the list of raw events, with one clear 4xx per way it can be wrong.

| problem                                   | status | field          |
|-------------------------------------------|--------|----------------|
| empty body                                | 400    | `body`         |
| body over the configured size             | 413    | `body`         |
| content type other than JSON              | 415    | `content-type` |
| body is not JSON (or not UTF-8)           | 400    | `body`         |
| body is neither an event nor a batch      | 400    | `body`         |
| `events` is not a non-empty list          | 400    | `events`       |
| more than 500 events                      | 413    | `events`       |
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from recs.errors import InvalidRequestError

MAX_EVENTS_PER_REQUEST = 500

#: `application/json`, and `text/plain` because `navigator.sendBeacon` with a string body sends
#: it (a CORS-safelisted type, so no preflight); the body must be JSON either way.
ACCEPTED_MEDIA_TYPES = ("application/json", "text/plain")
_MEDIA_TYPE_HINT = "must be application/json (or text/plain from navigator.sendBeacon) in UTF-8"


class IngestRequest(BaseModel):
    """The parts of a `POST /api/events` request that ingestion reads."""

    model_config = ConfigDict(frozen=True)

    content_type: str | None
    body: bytes
    #: The ``Authorization`` header: a bearer token of the user the events are about, needed
    #: for events with ``userId`` when caller authorization is on.
    authorization: str | None = None
    #: The ``User-Agent`` header: events sent by known crawlers are refused (`recs.ingest.crawlers`).
    user_agent: str | None = None

    @classmethod
    def from_http(
        cls,
        content_type: str | None,
        body: str | None,
        is_base64_encoded: bool,
        authorization: str | None = None,
        user_agent: str | None = None,
    ) -> IngestRequest:
        """Build from API Gateway's (payload 2.0) headers and body; a binary body arrives base64-encoded."""
        if not body:
            return cls(
                content_type=content_type, body=b"", authorization=authorization, user_agent=user_agent
            )
        if is_base64_encoded:
            try:
                decoded = base64.b64decode(body, validate=True)
            except binascii.Error as exc:
                raise InvalidRequestError(
                    "body is not valid base64", {"body": "is not valid base64"}
                ) from exc
            return cls(
                content_type=content_type, body=decoded, authorization=authorization, user_agent=user_agent
            )
        return cls(
            content_type=content_type,
            body=body.encode("utf-8", "surrogatepass"),
            authorization=authorization,
            user_agent=user_agent,
        )


def read_events(request: IngestRequest, max_body_bytes: int) -> tuple[list[Any], bool]:
    """The request's raw events and whether it was a batch (``{"events": [...]}``).

    Raises
    ------
    InvalidRequestError
        With the status and field of the table above.
    """
    body = request.body
    if not body.strip():
        raise InvalidRequestError("empty body", {"body": 'is empty; send an event or {"events": [...]}'})
    if len(body) > max_body_bytes:
        raise InvalidRequestError(
            "request body too large",
            {"body": f"is {len(body)} bytes; at most {max_body_bytes} bytes per request"},
            status=413,
        )
    check_media_type(request.content_type)
    return split_payload(decode_json(body))


def check_media_type(content_type: str | None) -> None:
    """415 unless the content type is JSON (or sendBeacon's text/plain) in UTF-8."""
    if content_type is None:
        raise InvalidRequestError("content-type is missing", {"content-type": _MEDIA_TYPE_HINT}, status=415)
    media_type, _, parameters = content_type.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media_type.strip().lower() not in ACCEPTED_MEDIA_TYPES or charset not in ("", "utf-8", "utf8"):
        raise InvalidRequestError(
            f"unsupported content-type {content_type[:100]!r}", {"content-type": _MEDIA_TYPE_HINT}, status=415
        )


def decode_json(body: bytes) -> Any:
    """The JSON value of a UTF-8 body (400 naming `body` otherwise)."""
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("body is not UTF-8", {"body": "is not valid UTF-8"}) from exc
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(
            "body is not JSON", {"body": f"is not valid JSON: {exc.msg} at position {exc.pos}"}
        ) from exc
    except RecursionError as exc:
        raise InvalidRequestError("body is nested too deeply", {"body": "is nested too deeply"}) from exc
    except ValueError as exc:
        # e.g. an integer literal longer than Python's 4,300-digit conversion limit
        # (Python's own message suggests an interpreter setting, useless to a caller.)
        reason = "is not usable JSON: a number has more than 4300 digits"
        if "digits" not in str(exc):
            reason = f"is not usable JSON: {exc}"
        raise InvalidRequestError("body is not usable JSON", {"body": reason}) from exc


def split_payload(payload: Any) -> tuple[list[Any], bool]:
    """One event, or ``{"events": [...]}`` with 1..500 events."""
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise InvalidRequestError("events must be a list", {"events": "must be a list of events"})
        if not events:
            raise InvalidRequestError("events is empty", {"events": "must contain at least one event"})
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise InvalidRequestError(
                f"too many events: {len(events)} > {MAX_EVENTS_PER_REQUEST}",
                {"events": f"has {len(events)} events; at most {MAX_EVENTS_PER_REQUEST} per request"},
                status=413,
            )
        return events, True
    if isinstance(payload, dict):
        return [payload], False
    raise InvalidRequestError(
        "body must be a JSON object", {"body": 'must be an event object or {"events": [...]}'}
    )


def parse_json_body(body: str | None) -> Any:
    """A JSON request body (any route): 400 naming `body` when it is empty or not JSON."""
    if body is None or body.strip() == "":
        raise InvalidRequestError("empty body", {"body": "is empty"})
    return decode_json(body.encode("utf-8", "surrogatepass"))
