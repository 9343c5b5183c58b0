"""POST /api/events."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.errors import register_error_handlers
from recs.config.ingest import IngestSettings
from recs.errors import InvalidRequestError
from recs.ingest.service import parse_json_body
from recs.wiring import ingest as wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
settings = IngestSettings()  # values come from the environment
service = wiring.ingest_service(settings)
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)


@app.post("/api/events")
@tracer.capture_method
def post_events() -> Response[Any]:
    content_type = (app.current_event.headers or {}).get("content-type", "")
    if not content_type.startswith("application/json"):
        raise InvalidRequestError(
            "content-type must be application/json", {"content-type": "must be application/json"}, status=415
        )
    result = service.ingest(parse_json_body(app.current_event.body))
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=len(result.rejected))
    return Response(
        status_code=202 if not result.rejected else 207,
        content_type=content_types.APPLICATION_JSON,
        body=result.as_dict(),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
