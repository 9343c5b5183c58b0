"""One JSON line per request: the log line and the EMF document of `recs.api.request_record`."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest

from recs.api.request_record import MetricGroup, RequestRecorder
from recs.serving.observability import MetricPoint

PINNED = 1_780_000_000.25  # 2026-05-28 20:26:40.250 UTC


@dataclass
class _Context:
    function_name: str = "recs-RecommendFunction"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:recs-RecommendFunction"
    aws_request_id: str = "req-1"


def _recorder(stream: io.StringIO, *, metrics: bool = True, info: bool = True) -> RequestRecorder:
    return RequestRecorder(
        service="recommend",
        namespace="Recommendations",
        metrics_enabled=lambda: metrics,
        logs_info=lambda: info,
        stream=stream,
        clock=lambda: PINNED,
    )


GROUPS = (
    MetricGroup(
        {"context": "homepage", "source": "user", "variant": "none"},
        [MetricPoint("Served", "Count", 1), MetricPoint("Latency", "Milliseconds", 0.5)],
    ),
    MetricGroup({"cache": "hit"}, [MetricPoint("Latency", "Milliseconds", 0.5)]),
    MetricGroup({}, [MetricPoint("Requests", "Count", 1)]),
    MetricGroup({"unused": "x"}, []),
)
FIELDS = {"context": "homepage", "source": "user", "variant": None, "cache": "hit", "latencyMs": 0.5}


def _written(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_line_is_both_the_log_line_and_the_emf_document() -> None:
    # Given a recorder logging at INFO with metrics enabled
    stream = io.StringIO()
    # When a served request is written
    _recorder(stream).write("served", FIELDS, GROUPS, _Context())
    # Then one line carries Powertools' log keys, the fields and one directive per dimension set
    (line,) = _written(stream)
    assert line["message"] == "served"
    assert line["level"] == "INFO"
    assert line["service"] == "recommend"
    assert line["timestamp"] == "2026-05-28 20:26:40,250+0000"
    assert line["function_request_id"] == "req-1"
    assert line["cold_start"] is True
    assert line["latencyMs"] == 0.5
    directives = line["_aws"]["CloudWatchMetrics"]
    assert line["_aws"]["Timestamp"] == 1_780_000_000_250
    assert [d["Dimensions"] for d in directives] == [
        [["service", "context", "source", "variant"]],
        [["service", "cache"]],
        [["service"]],
    ]
    assert [[m["Name"] for m in d["Metrics"]] for d in directives] == [
        ["Served", "Latency"],
        ["Latency"],
        ["Requests"],
    ]
    assert {d["Namespace"] for d in directives} == {"Recommendations"}
    assert (line["Served"], line["Latency"], line["Requests"]) == ([1], [0.5], [1])
    # And a dimension's value is a string even where the field is unset
    assert line["variant"] == "none"
    assert line["cache"] == "hit"
    # And an empty group adds neither a directive nor its dimension
    assert "unused" not in line


def test_only_the_first_line_of_a_container_is_a_cold_start() -> None:
    # Given a recorder that wrote once
    stream = io.StringIO()
    recorder = _recorder(stream)
    recorder.write("served", FIELDS, GROUPS, _Context())
    # When it writes again
    recorder.write("served", FIELDS, GROUPS, _Context())
    # Then only the first says cold_start
    assert [line["cold_start"] for line in _written(stream)] == [True, False]


def test_above_info_only_the_metrics_are_written() -> None:
    # Given a log level of WARNING
    stream = io.StringIO()
    # When a served request is written
    _recorder(stream, info=False).write("served", FIELDS, GROUPS, _Context())
    # Then the line is the EMF document alone: no message, no fields beside the dimensions
    (line,) = _written(stream)
    assert "message" not in line
    assert "latencyMs" not in line
    assert "function_request_id" not in line
    assert line["Served"] == [1]
    assert line["service"] == "recommend"


def test_with_metrics_disabled_only_the_log_line_is_written() -> None:
    # Given metrics disabled (POWERTOOLS_METRICS_DISABLED, as the local demo sets)
    stream = io.StringIO()
    # When a served request is written
    _recorder(stream, metrics=False).write("served", FIELDS, GROUPS, None)
    # Then the line has no EMF part and no metric values, and the field keeps its own value
    (line,) = _written(stream)
    assert "_aws" not in line
    assert "Served" not in line
    assert line["variant"] is None
    assert line["message"] == "served"


def test_with_neither_nothing_is_written() -> None:
    stream = io.StringIO()
    _recorder(stream, metrics=False, info=False).write("served", FIELDS, GROUPS, _Context())
    assert stream.getvalue() == ""


def test_without_a_namespace_no_metrics_are_written() -> None:
    # Given no POWERTOOLS_METRICS_NAMESPACE (EMF needs one)
    stream = io.StringIO()
    recorder = RequestRecorder(
        service="recommend",
        namespace=None,
        metrics_enabled=lambda: True,
        logs_info=lambda: True,
        stream=stream,
    )
    # When a served request is written
    recorder.write("served", FIELDS, GROUPS, _Context())
    # Then only the log line is
    (line,) = _written(stream)
    assert "_aws" not in line


def test_the_xray_trace_id_is_logged_when_lambda_sets_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given Lambda's trace header
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    stream = io.StringIO()
    # When a request is written
    _recorder(stream).write("not served", {"status": 400}, (), _Context())
    # Then the line names the trace, as Powertools' lines do
    (line,) = _written(stream)
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert line["status"] == 400
