"""One JSON line per request on the recommend route: its structured log line and its EMF document.

CloudWatch Logs reads an Embedded Metric Format document as a log line like any other: the line
that says what served a request (`served`: context, source, cache outcome, latency, pseudonyms
only) can carry the request's metrics too. One line instead of four (Powertools' Logger line and
one Metrics document per dimension set: by context, source and variant; by cache outcome; the
service alone) is what the cache-hit budget needs: those four cost about a quarter of a cache
hit's CPU time (`python -m bench --only serving`, docs/serving.md, Performance). Powertools'
Metrics puts every metric of a document under every dimension set, which would multiply the
custom metrics; EMF itself allows one directive per dimension set in the same document, and
that is what is written here.

The line keeps the keys of Powertools' JSON log lines (level, location, message, timestamp,
service, cold_start, function_*, xray_trace_id), so log queries need not know which wrote it.
A dimension's value is a root member of the line, so it must be a string: a field that is also a
dimension (``variant``) reads ``"none"`` when unset. With the log level above INFO only the
metrics are written; with metrics disabled (``POWERTOOLS_METRICS_DISABLED``), only the log line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

#: Where Lambda puts the request's X-Ray trace header.
_TRACE_ENV = "_X_AMZN_TRACE_ID"


class InvocationContext(Protocol):
    """What the line takes from Lambda's context object."""

    @property
    def function_name(self) -> str: ...
    @property
    def memory_limit_in_mb(self) -> int: ...
    @property
    def invoked_function_arn(self) -> str: ...
    @property
    def aws_request_id(self) -> str: ...


class Point(Protocol):
    """One metric value (`recs.serving.observability.MetricPoint` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def value(self) -> float: ...


@dataclass(frozen=True)
class MetricGroup:
    """Metrics published under one dimension set (besides ``service``)."""

    dimensions: Mapping[str, str]
    points: Sequence[Point]


class RequestRecorder:
    """Writes each request's line to `stream` (Lambda sends stdout to CloudWatch Logs)."""

    def __init__(
        self,
        *,
        service: str,
        namespace: str | None,
        metrics_enabled: Callable[[], bool],
        logs_info: Callable[[], bool],
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._namespace = namespace
        self._metrics_enabled = metrics_enabled
        self._logs_info = logs_info
        self._stream = stream
        self._clock = clock
        self._cold = True

    def write(
        self,
        message: str,
        fields: Mapping[str, Any],
        groups: Sequence[MetricGroup],
        context: InvocationContext | None,
    ) -> None:
        now = self._clock()
        record: dict[str, Any] = {}
        publishing = bool(self._namespace) and self._metrics_enabled()
        published = [g for g in groups if g.points] if publishing else []
        if published:
            record["_aws"] = {
                "Timestamp": int(now * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [["service", *group.dimensions]],
                        "Metrics": [{"Name": p.name, "Unit": p.unit} for p in group.points],
                    }
                    for group in published
                ],
            }
        if self._logs_info():
            record.update(self._log_keys(message, now, context))
            record.update(fields)
        if not record:
            return
        record["service"] = self._service
        for group in published:
            record.update(group.dimensions)
            for point in group.points:
                record[point.name] = [point.value]
        stream = self._stream or sys.stdout  # looked up late: tests and the local stack swap it
        stream.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")

    def _log_keys(self, message: str, now: float, context: InvocationContext | None) -> dict[str, Any]:
        keys: dict[str, Any] = {
            "level": "INFO",
            "location": "recommend",
            "message": message,
            "timestamp": _powertools_time(now),
            "service": self._service,
            "cold_start": self._cold,
        }
        self._cold = False
        if context is not None:
            keys["function_name"] = context.function_name
            keys["function_memory_size"] = context.memory_limit_in_mb
            keys["function_arn"] = context.invoked_function_arn
            keys["function_request_id"] = context.aws_request_id
        trace = os.environ.get(_TRACE_ENV, "")
        if trace.startswith("Root="):
            keys["xray_trace_id"] = trace.split(";", 1)[0].removeprefix("Root=")
        return keys


def _powertools_time(now: float) -> str:
    """The timestamp format of Powertools' log lines: ``2026-12-06 03:50:00,123+0000`` (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now * 1000) % 1000:03d}+0000"
