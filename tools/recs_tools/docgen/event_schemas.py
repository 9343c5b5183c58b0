"""Generate docs/event-schemas.md from the event models.

    python -m recs_tools.docgen.event_schemas [PATH]            # write (default docs/event-schemas.md)
    python -m recs_tools.docgen.event_schemas --check [PATH]    # exit 1 when PATH is out of date

Everything in the document comes from code: the JSON Schemas from the pydantic models, the
limits from `IngestSettings`' defaults, the weights from `DEFAULT_EVENT_WEIGHTS`, the lake
example from running the examples through the real scrubbing and pseudonymization. A test
fails when the committed document and the models disagree.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs.config.ingest import IngestSettings
from recs.contracts.events import (
    DEFAULT_EVENT_WEIGHTS,
    FREE_TEXT_FIELDS,
    TYPE_REQUIRED_FIELDS,
    EventsAccepted,
    EventType,
    LakeEvent,
    ShopEvent,
)
from recs.ingest.lake_records import encode_lines, to_lake_records
from recs.ingest.payload import ACCEPTED_MEDIA_TYPES, MAX_EVENTS_PER_REQUEST
from recs.ingest.validation import MAX_REASONS_PER_EVENT
from recs.pseudonyms import Pseudonymizer

DEFAULT_PATH = Path("docs/event-schemas.md")
_COMMON_REQUIRED = ("eventId", "eventType", "timestamp")
_EXAMPLE_TIME = "2026-11-26T11:59:00Z"

#: One example per event type, in the wire format the frontend sends.
EXAMPLES: dict[EventType, dict[str, Any]] = {
    EventType.VIEW: {
        "eventId": "3f1c2a9e-5b7d-4c1e-9a2f-6d8e0b4c7a11",
        "eventType": "view",
        "timestamp": _EXAMPLE_TIME,
        "userId": "user_000001",
        "sessionId": "sess_8c41",
        "productId": "sku_00042",
        "category": "electronics",
        "price": 24.99,
        "context": "product-page",
    },
    EventType.CLICK: {
        "eventId": "0b9a7c5e-3d1f-4e2a-8b6c-4a2e0f8d6c22",
        "eventType": "click",
        "timestamp": _EXAMPLE_TIME,
        "anonId": "anon_5e7f1d",
        "sessionId": "sess_8c41",
        "productId": "sku_00017",
        "context": "homepage",
        "recommendationId": "rec_7f3a9c",
    },
    EventType.ADD_TO_CART: {
        "eventId": "7d5e3c1a-9b8f-4a6e-8c4d-2b0a9e8f7d33",
        "eventType": "add_to_cart",
        "timestamp": _EXAMPLE_TIME,
        "userId": "user_000001",
        "anonId": "anon_5e7f1d",
        "sessionId": "sess_8c41",
        "productId": "sku_00042",
        "quantity": 1,
        "price": 24.99,
        "context": "product-page",
    },
    EventType.PURCHASE: {
        "eventId": "c2e4a6b8-0d1f-4a3c-9e5b-7f9d1b3e5a44",
        "eventType": "purchase",
        "timestamp": _EXAMPLE_TIME,
        "userId": "user_000001",
        "sessionId": "sess_8c41",
        "productId": "sku_00042",
        "category": "electronics",
        "quantity": 2,
        "price": 24.99,
        "context": "cart",
    },
    EventType.SEARCH: {
        "eventId": "5a7c9e1b-3d5f-4b7a-9c1e-3f5a7c9e1b55",
        "eventType": "search",
        "timestamp": _EXAMPLE_TIME,
        "anonId": "anon_5e7f1d",
        "sessionId": "sess_8c41",
        "context": "search",
        "query": "usb c charger",
        "results": ["sku_00042", "sku_00007", "sku_00019"],
    },
    EventType.SEARCH_RESULT_CLICK: {
        "eventId": "e8f0a2c4-6b8d-4f1a-8c3e-5a7c9e1b3d66",
        "eventType": "search_result_click",
        "timestamp": _EXAMPLE_TIME,
        "anonId": "anon_5e7f1d",
        "sessionId": "sess_8c41",
        "productId": "sku_00007",
        "context": "search",
        "query": "usb c charger",
    },
}

#: What a frontend may send by mistake, and what reaches the lake of it.
PII_EXAMPLE: dict[str, Any] = {
    "eventId": "9c1e3a5b-7d9f-4b1c-8e3a-5c7e9a1b3d77",
    "eventType": "search",
    "timestamp": _EXAMPLE_TIME,
    "userId": "user_000001",
    "sessionId": "sess_8c41",
    "context": "search",
    "query": "gift for jane.doe@example.com call +1 (555) 010-0199",
    "email": "jane.doe@example.com",
    "name": "Jane Doe",
    "ip": "203.0.113.7",
}

_EXAMPLE_KEY = b"example-key-for-the-docs-only-0123456789"


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def event_type_schema(event_type: EventType) -> dict[str, Any]:
    """The JSON Schema of one event type: `ShopEvent`'s, with `eventType` fixed and that type's
    required fields (`TYPE_REQUIRED_FIELDS`) and the one-of-userId/anonId rule made explicit."""
    schema = copy.deepcopy(ShopEvent.model_json_schema())
    title = "".join(part.title() for part in event_type.value.split("_"))
    schema["title"] = f"{title}Event"
    schema["description"] = (
        f"A `{event_type.value}` event. Unknown fields are ignored and never stored; "
        "`userId` and/or `anonId` identifies the visitor."
    )
    schema["properties"]["eventType"] = {"const": event_type.value, "type": "string"}
    schema.pop("$defs", None)
    required = [*_COMMON_REQUIRED, *TYPE_REQUIRED_FIELDS[event_type]]
    for name in required:
        if name in schema["properties"]:
            # A required field may not be null either.
            prop = schema["properties"][name]
            options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
            if options:
                prop.update(options[0])
            prop.pop("default", None)
    schema["required"] = required
    schema["anyOf"] = [
        {"required": ["userId"], "properties": {"userId": {"type": "string"}}},
        {"required": ["anonId"], "properties": {"anonId": {"type": "string"}}},
    ]
    return schema


def batch_schema() -> dict[str, Any]:
    """The JSON Schema of a batch request body."""
    return {
        "title": "EventBatch",
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_EVENTS_PER_REQUEST,
                "items": {"type": "object", "description": "An event of any type (see above)."},
            }
        },
        "required": ["events"],
    }


def lake_lines() -> list[str]:
    """The view example and `PII_EXAMPLE` as the lake stores them (documentation-only key)."""
    events = [ShopEvent.model_validate(EXAMPLES[EventType.VIEW]), ShopEvent.model_validate(PII_EXAMPLE)]
    received = datetime(2026, 11, 26, 11, 59, 2, tzinfo=UTC)
    records = to_lake_records(events, Pseudonymizer(_EXAMPLE_KEY), received)
    return [line.decode("utf-8").rstrip("\n") for line in encode_lines(records)]


def _type_of(prop: dict[str, Any]) -> str:
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    if not options:
        return "EventType" if "$ref" in prop else ""
    option = options[0]
    if "$ref" in option or "$ref" in prop:
        return "enum: " + ", ".join(f"`{t.value}`" for t in EventType)
    kind = str(option.get("type", ""))
    details = []
    if option.get("format"):
        details.append(str(option["format"]))
    if "pattern" in option:
        details.append(f"pattern `{option['pattern']}`")
    if "minLength" in option or "maxLength" in option:
        details.append(f"length {option.get('minLength', 0)}..{option.get('maxLength', '')}")
    if "minimum" in option or "maximum" in option:
        details.append(f"{option.get('minimum', '')}..{option.get('maximum', '')}")
    if kind == "array":
        details.append(f"up to {option.get('maxItems')} product ids")
    return kind + (f" ({'; '.join(details)})" if details else "")


def _fields_table() -> list[str]:
    schema = ShopEvent.model_json_schema()
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    product_types = [t.value for t, fields in TYPE_REQUIRED_FIELDS.items() if "productId" in fields]
    for name, prop in schema["properties"].items():
        if name in _COMMON_REQUIRED:
            required = "yes"
        elif name in ("userId", "anonId"):
            required = "one of userId / anonId"
        elif name == "productId":
            required = "for " + ", ".join(f"`{t}`" for t in product_types)
        else:
            required = "no"
        description = str(prop.get("description", "")).replace("|", "\\|")
        kind = _type_of(prop).replace("|", "\\|")
        rows.append(f"| `{name}` | {kind} | {required} | {description} |")
    return rows


def render(settings_defaults: dict[str, Any] | None = None) -> str:
    """The whole document."""
    defaults = settings_defaults or {
        name: field.default
        for name, field in IngestSettings.model_fields.items()
        if field.default is not None
    }
    max_body = int(defaults["max_body_bytes"])
    max_age_days = int(defaults["event_max_age_days"])
    max_future = int(defaults["event_max_future_seconds"])
    out: list[str] = [
        "# Event schemas",
        "",
        "<!-- Generated by `python -m recs_tools.docgen.event_schemas` from `recs.contracts.events`; do not",
        "edit by hand. A test fails when this file and the models disagree. -->",
        "",
        "The shop's frontend sends every interaction to `POST /api/events`. Every valid event lands in",
        "the S3 event lake exactly as described under [In the lake](#in-the-lake); invalid events are",
        "rejected with their reasons; nothing valid is silently dropped.",
        "",
        "## Sending events",
        "",
        '- The body is one event object, or `{"events": [...]}` with 1 to '
        f"{MAX_EVENTS_PER_REQUEST} events.",
        "- `Content-Type`: "
        + " or ".join(f"`{t}`" for t in ACCEPTED_MEDIA_TYPES)
        + " (what `navigator.sendBeacon` sends for a string body, which needs no CORS preflight); UTF-8.",
        f"- At most {max_body:,} bytes per request (`MAX_BODY_BYTES`); split larger batches.",
        f"- `timestamp` may be up to {max_age_days} days old (the training window) and at most "
        f"{max_future} seconds in the future (client clock skew).",
        "- `eventId` is a client-generated UUID. Sending an event again (e.g. after a 503) is safe:",
        "  training counts each `eventId` once.",
        "- Unknown fields are ignored and never stored. Do not send personal data (e-mail, name,",
        "  phone, address, IP); if some slips into free text it is removed before storage.",
        "",
        "## Responses",
        "",
        "| status | when | body |",
        "|---|---|---|",
        "| 202 | at least one event is valid (all valid events are stored) "
        "| `{accepted, rejectedCount, rejected: [{index, field, reason, code}], sampledOut, overCap}` |",
        "| 400 | empty body, not JSON, not an event or batch, `events` not a non-empty list, "
        "or no valid event | `{message, errors: [{field, reason}]}`; with no valid event also "
        "`accepted: 0, rejectedCount, rejected` |",
        f"| 413 | body over {max_body:,} bytes, or more than {MAX_EVENTS_PER_REQUEST} events "
        "| `{message, errors: [{field, reason}]}` naming `body` or `events` |",
        "| 415 | `Content-Type` missing or not JSON | `{message, errors}` naming `content-type` |",
        "| 503 | the lake did not take every event in time (`Retry-After` header) "
        "| `{message}`: send the same request again |",
        "",
        "A partly valid batch is a 202 rather than a 207 or a 4xx: the valid events are stored, and",
        "a 2xx keeps `fetch()` and beacon clients on their success path; `rejected` says which events",
        f"were not stored and why (at most {MAX_REASONS_PER_EVENT} reasons per event; `index` is the",
        "event's position in `events`, 0 for a single event). `sampledOut` counts valid events the",
        "shop's sampling rules left out of the lake (`SAMPLING_RULES`: one in N views, say, is",
        "kept and counts N times in training); they are accepted and still shape the shopper's live",
        "session. A `sampleRate` other than the shop's rule for the event's type is rejected",
        "(`sampleRate`, `sample_rate_mismatch`). `overCap` counts valid events left out of the lake",
        "and the live session because their visitor (`userId` or `anonId`) had already sent",
        "`VISITOR_EVENTS_PER_HOUR` events this clock hour (600 by default); they are accepted, and",
        "sending them again does not store them.",
        "",
        "```json",
        _json(
            EventsAccepted.model_validate(
                {
                    "accepted": 2,
                    "rejectedCount": 1,
                    "rejected": [
                        {
                            "index": 1,
                            "field": "productId",
                            "reason": "productId is required for eventType 'view'",
                            "code": "missing_for_event_type",
                        }
                    ],
                }
            ).model_dump()
        ),
        "```",
        "",
        "## Default weights",
        "",
        "How much each event type counts when training (configurable; recorded in each model's",
        "metadata). `search` events carry no product and are not weighted; clicks on their results",
        "arrive as `search_result_click`.",
        "",
        "| eventType | weight |",
        "|---|---|",
        *[f"| `{name}` | {weight:g} |" for name, weight in DEFAULT_EVENT_WEIGHTS.items()],
        "",
        "## Fields",
        "",
        *_fields_table(),
        "",
        "Free-text fields (" + ", ".join(f"`{f}`" for f in FREE_TEXT_FIELDS) + ") are scrubbed of",
        "anything that looks like an e-mail address, a phone number (any run of 7 or more digits) or",
        "an IPv4 address. Identifiers may use letters, digits and `_-.:` only, so an e-mail address is",
        "never a valid id.",
        "",
        "## Event types",
    ]
    for event_type in EventType:
        required = [*_COMMON_REQUIRED, *TYPE_REQUIRED_FIELDS[event_type]]
        weight = DEFAULT_EVENT_WEIGHTS.get(event_type.value)
        out += [
            "",
            f"### `{event_type.value}`",
            "",
            "Required: "
            + ", ".join(f"`{f}`" for f in required)
            + ", and `userId` or `anonId`. "
            + (f"Default weight {weight:g}." if weight is not None else "Not weighted."),
            "",
            "Example:",
            "",
            "```json",
            _json(EXAMPLES[event_type]),
            "```",
            "",
            "<details><summary>JSON Schema</summary>",
            "",
            "```json",
            _json(event_type_schema(event_type)),
            "```",
            "",
            "</details>",
        ]
    out += [
        "",
        "## Batch request",
        "",
        "```json",
        _json({"events": [EXAMPLES[EventType.VIEW], EXAMPLES[EventType.ADD_TO_CART]]}),
        "```",
        "",
        "<details><summary>JSON Schema</summary>",
        "",
        "```json",
        _json(batch_schema()),
        "```",
        "",
        "</details>",
        "",
        "## 202 response",
        "",
        "<details><summary>JSON Schema</summary>",
        "",
        "```json",
        _json(EventsAccepted.model_json_schema()),
        "```",
        "",
        "</details>",
        "",
        "## In the lake",
        "",
        "Ingest sends each event to Firehose as one line of JSON; Firehose converts every delivery",
        "to one Snappy-compressed Parquet object, `events/YYYY/MM/DD/HH/<name>.parquet` (UTC arrival",
        "hour), against the lake's table (`recs_<stage>.events`: one column per field of a lake",
        "record, lower-cased, with its type). Objects delivered before the conversion was enabled are",
        "NDJSON (gzip), one event per line; Prepare, the erasure purge and the data export read both",
        "([training.md](training.md), Prepare). Before an event gets there:",
        "",
        "- `userId`, `anonId` and `sessionId` are replaced by keyed-hash pseudonyms (HMAC-SHA256 under",
        "  a secret from Secrets Manager; the same raw id always gives the same pseudonym, and the",
        "  pseudonym cannot be traced back without the key);",
        "- free text is scrubbed (above) and unknown fields are dropped;",
        "- `timestamp` is converted to UTC, `eventId` to lower case, and `receivedAt` and",
        "  `schemaVersion` are added.",
        "",
        "The view example above and this request, which carries personal data it should not:",
        "",
        "```json",
        _json(PII_EXAMPLE),
        "```",
        "",
        "are stored as these rows (each shown as the JSON line ingest sends, absent fields left out;",
        "pseudonyms computed here with a documentation-only key):",
        "",
        "```json",
        *lake_lines(),
        "```",
        "",
        "<details><summary>JSON Schema of a lake record</summary>",
        "",
        "```json",
        _json(LakeEvent.model_json_schema()),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.docgen.event_schemas",
        description="Write docs/event-schemas.md from the event models (or check it is current).",
    )
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH, help="default: %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of date")
    args = parser.parse_args(argv)
    path: Path = args.path
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(
                f"{path} is out of date: run python -m recs_tools.docgen.event_schemas {path}",
                file=sys.stderr,
            )
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
