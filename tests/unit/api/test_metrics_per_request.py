"""log_metrics_per_request: one request's metrics per document, also with metrics disabled."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from recs.api.metrics import log_metrics_per_request


def _handler(metrics: Metrics) -> Any:
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_dimension(name="context", value=event["context"])
        metrics.add_metric(name="Served", unit=MetricUnit.Count, value=1)
        return {"statusCode": 200}

    return handler


def test_with_metrics_disabled_nothing_piles_up_between_requests(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given metrics disabled (as the local demo runs) and a handler adding a dimension and a metric
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics = Metrics(namespace="Test", service="per-request-disabled")
    handler = log_metrics_per_request(metrics)(_handler(metrics))
    # When it serves 150 requests
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number in range(150):
            assert handler({"context": f"c{number % 3}"}, None) == {"statusCode": 200}
    # Then no request found the previous one's dimension, nothing was printed (Powertools prints
    # a pile of 100 values even when disabled), and the metric set is empty after the last
    assert not [w for w in caught if "already been added" in str(w.message)]
    assert capsys.readouterr().out == ""
    assert metrics.metric_set == {}


def test_with_metrics_enabled_each_request_is_one_document(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given metrics enabled
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics = Metrics(namespace="Test", service="per-request-enabled")
    handler = log_metrics_per_request(metrics)(_handler(metrics))
    # When it serves three requests
    for context in ("homepage", "cart", "homepage"):
        handler({"context": context}, None)
    # Then three EMF documents were printed, each with its own request's dimension
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert ['"context":"homepage"' in lines[0], '"context":"cart"' in lines[1]] == [True, True]
