"""Privacy routes: preferences and status (erasure: see the privacy issue)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from recs.api.errors import register_error_handlers
from recs.config.privacy import PrivacySettings
from recs.ingest.service import parse_json_body
from recs.models.events import checked_identifier
from recs.wiring import privacy as wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
settings = PrivacySettings()  # values come from the environment
service = wiring.privacy_service(settings)
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recommendations: bool


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    preferences: Preferences


@app.put("/api/users/<user_id>/preferences")
def put_preferences(user_id: str) -> dict[str, Any]:
    body = PreferencesBody.model_validate(parse_json_body(app.current_event.body))
    return service.set_preference(checked_identifier("userId", user_id), body.preferences.recommendations)


@app.get("/api/users/<user_id>/privacy")
def get_status(user_id: str) -> dict[str, Any]:
    return service.status(checked_identifier("userId", user_id))


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
