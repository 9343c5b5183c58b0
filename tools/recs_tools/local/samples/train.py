"""Sample Step Functions payloads of the training function (`sam local invoke TrainFunction -e ...`);
Prepare's is the prepare function's (`recs_tools.local.samples.prepare`)."""

from __future__ import annotations

from typing import Any

_VERSION = "v20261126T030000.000Z-5a1e2f"
_JOB = {
    "executionName": "sample",
    "modelVersion": _VERSION,
    "generatedAt": "2026-11-26T03:00:00Z",
    "endTs": 1795662000.0,
    "family": "als",
    "shards": {"manifestKey": f"models/{_VERSION}/shards/manifest.json", "count": 2},
}


def samples() -> dict[str, dict[str, Any]]:
    return {
        # One item of the publish Distributed Map (ItemSelector: step, job, shard).
        "train_publish_shard": {
            "step": "publish_shard",
            "job": _JOB,
            "shard": {"kind": "users", "name": "users-00000", "users": 20000},
        },
        # What the Catch path passes after a step failed.
        "train_record_failure": {
            "step": "record_failure",
            "job": {
                **_JOB,
                "error": {"Error": "MemoryError", "Cause": '{"errorMessage": "simulated"}'},
            },
        },
    }
