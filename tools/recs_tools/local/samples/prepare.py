"""Sample Step Functions payload of the prepare function (`sam local invoke PrepareFunction -e ...`)."""

from __future__ import annotations

from typing import Any


def samples() -> dict[str, dict[str, Any]]:
    return {
        # What the Prepare state sends on a scheduled execution: its job wraps the execution's input.
        "prepare_scheduled_run": {
            "step": "prepare",
            "job": {
                "executionName": "sample",
                "startedAt": "2026-11-26T03:00:00Z",
                "input": {"trigger": "schedule"},
            },
        },
    }
