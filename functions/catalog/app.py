"""The catalog feed: S3 calls this when the shop uploads its catalog export.

An ``s3:ObjectCreated`` notification on ``catalog/products.jsonl`` in the artifact bucket
(template.yaml) is parsed with Powertools' S3 model, and each upload of the export runs
`recs.catalog.feed.CatalogFeed.refresh`: availability, new arrivals and similar items of new
products reach serving within a minute of the upload (docs/serving.md, New products).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3Model
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.catalog import CatalogSettings
from recs.store_layout import CATALOG_OBJECT_KEY
from recs.wiring import catalog as wiring

logger = Logger()
metrics = Metrics()
settings = CatalogSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
feed = wiring.catalog_feed(settings)


@logger.inject_lambda_context(log_event=False)
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notification = parse(event=event, model=S3Model)
    # S3 URL-encodes object keys in notifications ("a b" arrives as "a+b").
    keys = [unquote_plus(r.s3.object.key) for r in notification.Records if r.s3.object is not None]
    reports = [asdict(feed.refresh(key)) for key in keys if key == CATALOG_OBJECT_KEY]
    for report in reports:
        logger.info("catalog refreshed", extra=report)
        metrics.add_metric(name="NewProducts", unit=MetricUnit.Count, value=report["newProducts"])
    return {"refreshed": reports, "ignored": [key for key in keys if key != CATALOG_OBJECT_KEY]}
