"""The export job: the privacy function invokes it asynchronously with ``{"receiptId": ...}``.

It writes the receipt owner's data to the export bucket and marks the receipt ready
(`recs.privacy.export_job`). A store fault raises with the receipt still pending, and Lambda
retries the invocation (twice); any other failure marks the receipt failed first. Logs and
metrics carry counts only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.privacy import ExportSettings
from recs.privacy.receipts import RECEIPT_ID_PATTERN
from recs.wiring import privacy_jobs as wiring

logger = Logger()
metrics = Metrics()
settings = ExportSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
job = wiring.export_job(settings)


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receiptId: str = Field(pattern=RECEIPT_ID_PATTERN)


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    request = ExportRequest.model_validate(event)
    outcome = job.run(request.receiptId)
    report = {
        "receiptId": request.receiptId,
        "status": outcome.status,
        "events": outcome.events,
        "linkedAnonymousIds": outcome.linked_anonymous_ids,
        "listItems": outcome.list_items,
        "bytes": outcome.bytes_written,
    }
    logger.info("export finished", extra=report)
    if outcome.status == "ready":
        metrics.add_metric(name="ExportsWritten", unit=MetricUnit.Count, value=1)
    return report
