"""The purge step of the training workflow: finish every pending erasure (recs.privacy.purge).

Step Functions passes ``{"step": "purge", ...}``; the answer is counts only (it is kept in the
execution history). A failure raises: the workflow retries, then alerts and trains anyway
(tombstones keep erased shoppers out), and the receipts stay pending until a purge succeeds.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.privacy import PurgeSettings
from recs.wiring import privacy_jobs as wiring

logger = Logger()
metrics = Metrics()
settings = PurgeSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
purge = wiring.erasure_purge(settings)


class PurgeRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    step: Literal["purge"]


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, int]:
    PurgeRequest.model_validate(event)
    report = purge.run().as_dict()
    logger.info("purge finished", extra=report)
    metrics.add_metric(name="ErasuresCompleted", unit=MetricUnit.Count, value=report["erasuresCompleted"])
    metrics.add_metric(name="LakeRecordsPurged", unit=MetricUnit.Count, value=report["lakeRecordsRemoved"])
    return report
