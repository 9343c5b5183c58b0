"""Shared test helpers: the sample events in events/ and small builders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_tools.checkout import repo_root

EVENTS_DIR = repo_root() / "events"


def load_event(name: str, *, fresh_timestamps: bool = True) -> dict[str, Any]:
    """A sample event from events/; shop-event timestamps are moved to now (the tests' pinned
    clock) so that the retention window, relative to the clock, accepts them."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    if fresh_timestamps and isinstance(event.get("body"), str) and event["body"]:
        body = json.loads(event["body"])
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        for item in body.get("events", [body]) if isinstance(body, dict) else []:
            if isinstance(item, dict) and "timestamp" in item:
                item["timestamp"] = now
        event["body"] = json.dumps(body)
    return event


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def sample_event_names() -> list[str]:
    return sorted(path.stem for path in Path(EVENTS_DIR).glob("*.json"))
