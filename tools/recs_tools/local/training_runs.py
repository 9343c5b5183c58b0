"""Training runs on the local stack, started from outside its process.

In AWS an EventBridge schedule starts the training state machine; moto never fires schedules,
and the local stack's tables live inside its own process. So the local API adds routes that
exist only locally (never in template.yaml, never deployed):

- ``POST /local/training-runs`` starts the real workflow on the events posted so far and
  answers 202 with the run (``id``, ``status``: RUNNING);
- ``GET /local/training-runs/{id}`` answers the run's status (RUNNING, SUCCEEDED, FAILED),
  and when it has ended, its model version or why it failed (a gate refusal is FAILED with
  ``error`` ``QualityGateRefused``, while popular and trending still refresh);
- ``GET /local/training-runs`` lists the runs started here, newest first.

``recs local --train-every SECONDS`` starts one on a schedule, as EventBridge would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

PREFIX = "/local/training-runs"


class _Stack(Protocol):
    def start_execution(self, logical_id: str = ..., payload: Any = ...) -> str: ...

    def client(self, service: str) -> Any: ...


class TrainingRuns:
    def __init__(self, stack: _Stack) -> None:
        self._stack = stack
        self._lock = threading.Lock()
        self._arns: dict[str, str] = {}

    def start(self, trigger: str = "local-api") -> dict[str, Any]:
        """Start the training state machine; the run as `describe` tells it."""
        arn = self._stack.start_execution(payload={"trigger": trigger})
        run_id = arn.rsplit(":", 1)[-1]
        with self._lock:
            self._arns[run_id] = arn
        described = self.describe(run_id)
        assert described is not None
        return described

    def describe(self, run_id: str) -> dict[str, Any] | None:
        """The run's status, and once it ended its outcome; None for an id not started here."""
        with self._lock:
            arn = self._arns.get(run_id)
        if arn is None:
            return None
        execution = self._stack.client("stepfunctions").describe_execution(executionArn=arn)
        run: dict[str, Any] = {
            "id": run_id,
            "status": execution["status"],
            "startedAt": _iso(execution.get("startDate")),
        }
        if execution["status"] == "RUNNING":
            return run
        run["stoppedAt"] = _iso(execution.get("stopDate"))
        output = json.loads(execution.get("output") or "{}")
        if execution["status"] == "SUCCEEDED":
            run["modelVersion"] = output.get("modelVersion")
            run["evaluation"] = output.get("evaluation")
        else:
            run["error"] = execution.get("error")
            run["cause"] = execution.get("cause")
        return run

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            ids = list(self._arns)
        runs = [self.describe(run_id) for run_id in reversed(ids)]
        return [run for run in runs if run is not None]

    def every(self, seconds: float, stop: threading.Event, log: Callable[[str], None] = print) -> None:
        """Start a run every `seconds` until `stop` is set (the first one at once). A run that
        finds another still going ends at once (the training lease), as in AWS."""
        while not stop.is_set():
            run = self.start(trigger="local-schedule")
            log(f"training run {run['id']} started (every {seconds:g} s)")
            stop.wait(seconds)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None
