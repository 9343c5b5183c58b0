"""Powertools' `log_metrics`, with the metric set cleared after every invocation.

With `POWERTOOLS_METRICS_DISABLED=true` (the local demo sets it to keep its console readable;
an operator may set it in AWS) Powertools neither publishes nor clears the metric set, so a warm
container's metrics and dimensions pile up from request to request: every later
`add_dimension` warns that the dimension exists, and once a metric holds 100 values Powertools
prints the EMF document anyway. Clearing after each invocation keeps one request's metrics per
document in every mode; when metrics are enabled the flush has already cleared them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics

Handler = TypeVar("Handler", bound=Callable[..., Any])


def log_metrics_per_request(metrics: Metrics | EphemeralMetrics) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        logged = metrics.log_metrics(handler)

        @functools.wraps(handler)
        def invoke(event: Any, context: Any) -> Any:
            try:
                return logged(event, context)
            finally:
                metrics.clear_metrics()

        return invoke  # type: ignore[return-value]

    return decorate
