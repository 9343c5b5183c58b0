"""argparse value types shared by the command lines (`recs`, `python -m recs_tools.synthetic`)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any


def aware_datetime(text: str) -> datetime:
    """An ISO-8601 time with its zone (a naive time would mean something else on every machine)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a zone, e.g. 2026-11-01T00:00:00Z")
    return parsed


def key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE``, the value read as JSON when it is JSON and kept as text otherwise."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw
