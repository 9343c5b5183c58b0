"""GET /api/recommendations: typed query parameters -> RecommendService -> JSON.

Powertools validates each parameter against the types in `recs.serving.query` (and documents
them in the OpenAPI spec, docs/openapi.json); a bad one answers 400 naming the field
(`recs.api.errors`). Every request leaves one structured log line (pseudonyms only), EMF
metrics and, in AWS, an X-Ray trace.
"""

import time
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from recs.api.errors import error_responses, register_error_handlers
from recs.api.metrics import log_metrics_per_request
from recs.api.tracing import make_tracer
from recs.config.recommend import RecommendSettings
from recs.contracts.recommendations import RecommendationResponse
from recs.serving.observability import (
    served_dimensions,
    served_fields,
    served_metrics,
    service_total_metrics,
)
from recs.serving.query import (
    DEFAULT_CONTEXT,
    DEFAULT_LIMIT,
    BrandList,
    Category,
    CategoryList,
    ContextName,
    Identifier,
    Limit,
    Price,
    ProductList,
    RecommendationQuery,
    TagList,
)
from recs.serving.service import Outcome
from recs.wiring import recommend as wiring
from recs.wiring.auth import subject_policy

settings = RecommendSettings()  # values come from the environment
logger = Logger()
tracer = make_tracer(disabled=settings.powertools_trace_disabled)
metrics = Metrics()
# The SLO's 50 ms budget is for cache hits: latency by cache outcome needs a dimension set of its
# own (service, cache), which the shared metric set cannot add beside (context, source, variant).
latency_by_cache = EphemeralMetrics()
# Whole-service counts (dimension: service only), what the alarms divide: requests, signed-in
# shoppers served nothing personal, unverified callers, store errors (template.yaml, Alarms).
service_totals = EphemeralMetrics()
service = wiring.recommend_service(settings)
# A userId request must carry a bearer token of that user when an issuer is set (docs/privacy.md).
access = subject_policy(settings, verify_tokens=True)
app = APIGatewayHttpResolver(enable_validation=True)
register_error_handlers(app, logger)

#: What each error status means on this route (the body is always `ErrorBody`).
ERROR_MEANINGS = {
    400: "Invalid parameters; `errors` names each bad field.",
    404: "No product of the `category` asked for is on sale; `errors` names it.",
    503: "No source can answer (e.g. before the first model); see Retry-After.",
}


@app.get(
    "/api/recommendations",
    summary="Recommended products for a shopper and a page",
    description="Top-N products with scores and reasons; falls back tier by tier (docs/serving.md) "
    "and answers 503 only when no source can answer. With caller authorization enabled, userId "
    "needs a bearer token of that user: 401 without a valid one, 403 for another user's "
    "(docs/privacy.md).",
    operation_id="getRecommendations",
    tags=["recommendations"],
    responses={
        200: {
            "description": "The recommendations.",
            "content": {content_types.APPLICATION_JSON: {"model": RecommendationResponse}},
        },
        **error_responses(ERROR_MEANINGS),
    },
)
@tracer.capture_method(capture_response=False)
def get_recommendations(
    user_id: Annotated[Identifier | None, Query(alias="userId", description="Signed-in shopper.")] = None,
    anon_id: Annotated[
        Identifier | None, Query(alias="anonId", description="Anonymous browser id (no userId).")
    ] = None,
    limit: Annotated[Limit, Query(description="How many products (1-100).")] = DEFAULT_LIMIT,
    context: Annotated[
        ContextName,
        Query(description="homepage, product-page or cart; other values are served as homepage."),
    ] = DEFAULT_CONTEXT,
    product_id: Annotated[
        Identifier | None,
        Query(alias="productId", description="The product on screen; required for product-page."),
    ] = None,
    current_product_id: Annotated[
        Identifier | None, Query(alias="currentProductId", description="Alias of productId.")
    ] = None,
    cart_product_ids: Annotated[
        ProductList | None,
        Query(alias="cartProductIds", description="The cart's product ids, comma-separated."),
    ] = None,
    category: Annotated[
        Category | None,
        Query(
            description="Only products of this category and of the categories below it: a path of "
            "segments separated by `/` (`home/kitchen` matches `home/kitchen/knives`, never "
            "`home/kitchenware`)."
        ),
    ] = None,
    categories: Annotated[
        CategoryList | None,
        Query(
            description="Only products of these categories, comma-separated (up to 20; no commas "
            "inside a name; use `category` for one that has some). Not with `category`."
        ),
    ] = None,
    exclude: Annotated[
        ProductList | None,
        Query(
            description="Products never to return, comma-separated (up to 100): e.g. those another "
            "widget of the page already shows. The list is filled from deeper candidates and the "
            "next sources instead."
        ),
    ] = None,
    brand: Annotated[
        BrandList | None,
        Query(
            description="Only products of these brands, comma-separated (up to 20; no commas inside "
            "a name), matched case-insensitively. Products of unknown brand are left out."
        ),
    ] = None,
    tag: Annotated[
        TagList | None,
        Query(
            description="Only products with any of these tags, comma-separated (up to 20; no commas "
            "inside a tag), matched case-insensitively. Products without tags are left out.",
        ),
    ] = None,
    min_price: Annotated[
        Price | None,
        Query(
            alias="minPrice",
            description="Only products priced at least this (a number >= 0, the catalog's "
            "currency; at most maxPrice). Products of unknown price are left out.",
        ),
    ] = None,
    max_price: Annotated[
        Price | None,
        Query(
            alias="maxPrice",
            description="Only products priced at most this (a number >= 0, the catalog's currency). "
            "Products of unknown price are left out.",
        ),
    ] = None,
) -> Response[str]:
    started = time.perf_counter()
    admission = access.admit(user_id, app.current_event.headers)
    query = RecommendationQuery.from_parameters(
        user_id=admission.user_id,
        anon_id=anon_id,
        limit=limit,
        context=context,
        product_id=product_id,
        current_product_id=current_product_id,
        cart_product_ids=cart_product_ids,
        category=category,
        exclude=exclude,
        categories=categories,
        brand=brand,
        tag=tag,
        min_price=min_price,
        max_price=max_price,
    )
    outcome = service.recommend(query)
    _observe(outcome, (time.perf_counter() - started) * 1000, caller_unverified=admission.unverified)
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=outcome.response.model_dump_json(exclude_none=True),
    )


def _observe(outcome: Outcome, latency_ms: float, *, caller_unverified: bool = False) -> None:
    fields = served_fields(outcome, latency_ms)
    if caller_unverified:
        # The issuer's keys could not be had: served as an anonymous request (docs/privacy.md).
        fields["callerUnverified"] = True
    logger.info("served", extra=fields)
    for name, value in served_dimensions(fields).items():
        metrics.add_dimension(name=name, value=value)
    for point in served_metrics(outcome, fields):
        metrics.add_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value)
    for point in service_total_metrics(outcome, caller_unverified=caller_unverified):
        service_totals.add_metric(name=point.name, unit=MetricUnit(point.unit), value=point.value)
    latency_by_cache.add_dimension(name="cache", value=str(fields["cache"]))
    latency = float(fields["latencyMs"])
    latency_by_cache.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=latency)
    for key in ("context", "source", "variant", "cache"):
        tracer.put_annotation(key=key, value=str(fields[key]))


@logger.inject_lambda_context
@log_metrics_per_request(metrics)
@log_metrics_per_request(latency_by_cache)
@log_metrics_per_request(service_totals)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = app.resolve(event, context)
    status = int(result.get("statusCode", 500))
    if status >= 400:
        metrics.add_metric(
            name="ClientErrors" if status < 500 else "ServerErrors", unit=MetricUnit.Count, value=1
        )
        logger.info(
            "not served",
            extra={"status": status, "latencyMs": round((time.perf_counter() - started) * 1000, 3)},
        )
    return result
