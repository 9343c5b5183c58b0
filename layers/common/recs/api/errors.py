"""Typed errors to HTTP responses, in one place (the cookbook's exception_handler habit)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import ValidationError

from recs.errors import (
    DeliveryError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ServiceUnavailableError,
    StoreUnavailableError,
)


def fields_of(error: ValidationError) -> dict[str, str]:
    """pydantic errors as {field: reason}; model-level errors name their field in the message."""
    fields: dict[str, str] = {}
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if not location:
            first = message.split(" ", 1)[0]
            location = first if first[:1].islower() else "request"
        fields.setdefault(location, message)
    return fields


def json_error(
    status: int, message: str, fields: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    body: dict[str, Any] = {"message": message}
    if fields:
        body["errors"] = [{"field": name, "reason": reason} for name, reason in fields.items()]
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers or {}
    )


def register_error_handlers(app: APIGatewayHttpResolver, logger: Logger) -> None:
    @app.exception_handler(ValidationError)
    def _validation(error: ValidationError) -> Response[Any]:
        return json_error(400, "invalid request", fields_of(error))

    @app.exception_handler(InvalidRequestError)
    def _invalid(error: InvalidRequestError) -> Response[Any]:
        return json_error(error.status, str(error), error.fields)

    @app.exception_handler(NotFoundError)
    def _not_found(error: NotFoundError) -> Response[Any]:
        return json_error(404, str(error))

    @app.exception_handler(ForbiddenError)
    def _forbidden(error: ForbiddenError) -> Response[Any]:
        return json_error(403, str(error))

    @app.exception_handler(ServiceUnavailableError)
    def _unavailable(error: ServiceUnavailableError) -> Response[Any]:
        return json_error(503, str(error), headers={"Retry-After": str(error.retry_after)})

    @app.exception_handler(DeliveryError)
    def _undelivered(error: DeliveryError) -> Response[Any]:
        logger.error("event delivery failed", extra={"undelivered": error.undelivered})
        return json_error(
            503, "events could not be stored; retry the whole request", headers={"Retry-After": "2"}
        )

    @app.exception_handler(StoreUnavailableError)
    def _store(error: StoreUnavailableError) -> Response[Any]:
        logger.error("store unavailable", extra={"error": str(error)})
        return json_error(503, "a backing store is unavailable; retry later", headers={"Retry-After": "2"})
