"""POST /api/events: one event or {"events": [...]} (up to 500) into the S3 event lake."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.errors import register_error_handlers
from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.ingest import IngestSettings
from recs.ingest.payload import IngestRequest
from recs.ingest.session_signal import SignalStatus
from recs.wiring import ingest as wiring

logger = Logger()
metrics = Metrics()
settings = IngestSettings()  # values come from the environment
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
service = wiring.ingest_service(settings)
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)


@app.post("/api/events")
@tracer.capture_method
def post_events() -> Response[Any]:
    event = app.current_event
    headers = event.headers or {}
    request = IngestRequest.from_http(
        headers.get("content-type"),
        event.body,
        bool(event.is_base64_encoded),
        headers.get("authorization"),
        headers.get("user-agent"),
    )
    result = service.ingest(request)
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=result.rejected_count)
    if result.over_cap:
        metrics.add_metric(name="EventsOverVisitorCap", unit=MetricUnit.Count, value=result.over_cap)
    if result.session.status in (SignalStatus.FAILED, SignalStatus.PARTIAL):
        metrics.add_metric(name="SessionSignalFailures", unit=MetricUnit.Count, value=1)
        logger.warning("session signal not fully updated", extra={"outcome": result.session.status.value})
    # 202 whether or not some events were rejected: every valid event is stored, and the body
    # says which were not (a 2xx keeps fetch()/sendBeacon clients on their success path).
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=result.response().model_dump(),
    )


@logger.inject_lambda_context
@log_metrics_per_request(metrics)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
