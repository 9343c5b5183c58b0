"""Sample Step Functions payloads of the training function."""

from __future__ import annotations

from typing import Any


def samples() -> dict[str, dict[str, Any]]:
    return {
        "train_prepare": {
            "step": "prepare",
            "job": {
                "executionName": "sample",
                "startedAt": "2026-11-26T03:00:00Z",
                "input": {"trigger": "schedule"},
            },
        },
    }
