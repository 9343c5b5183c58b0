"""GET /api/recommendations."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.errors import register_error_handlers
from recs.config.recommend import RecommendSettings
from recs.serving.query import RecommendationQuery
from recs.wiring import recommend as wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
settings = RecommendSettings()  # values come from the environment
service = wiring.recommend_service(settings)
app = APIGatewayHttpResolver()
register_error_handlers(app, logger)


@app.get("/api/recommendations")
@tracer.capture_method
def get_recommendations() -> dict[str, Any]:
    query = RecommendationQuery.from_query_string(app.current_event.query_string_parameters or {})
    outcome = service.recommend(query)
    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=outcome.stats.cache_hits)
    metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=outcome.stats.cache_misses)
    logger.info(
        "served",
        extra={
            "context": query.effective_context,
            "source": outcome.response.source,
            "modelVersion": outcome.response.modelVersion,
            "cacheHits": outcome.stats.cache_hits,
            "cacheMisses": outcome.stats.cache_misses,
        },
    )
    return outcome.response.model_dump(exclude_none=True)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
