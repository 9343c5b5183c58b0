"""Typed errors to HTTP responses, in one place (the cookbook's exception_handler habit)."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, Field, ValidationError

from recs.auth.errors import IssuerUnavailableError, UnauthorizedError
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


#: A model validator's message that names its field: "<field>: <reason>".
_NAMED_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9]*): (.+)$", re.DOTALL)
_PARAMETER_PLACES = frozenset({"query", "path", "header", "cookie", "body"})
#: Handler arguments that hold a route's query parameters as one model.
_MODEL_PARAMETERS = frozenset({"parameters"})


def fields_of_request(error: RequestValidationError) -> dict[str, str]:
    """Powertools' parameter validation errors (``loc`` like ``("query", "limit")``) as {field: reason}."""
    fields: dict[str, str] = {}
    for item in error.errors():
        loc = [str(part) for part in item.get("loc", ())]
        several = bool(loc) and loc[0] == "query" and isinstance(item.get("input"), list)
        if loc and loc[0] in _PARAMETER_PLACES:
            loc = loc[1:] or [loc[0]]
            if len(loc) > 1 and loc[0] in _MODEL_PARAMETERS:
                # A route's parameters taken as one model (`RecommendationParameters`): the
                # caller sent `limit`, not `parameters.limit`.
                loc = loc[1:]
        message = str(item.get("msg", "is invalid")).removeprefix("Value error, ")
        if several:
            # Powertools hands a repeated (or comma-separated) single-valued parameter over as a
            # list, and pydantic's "Input should be a valid string" would not say why.
            message = "has several values (repeated, or separated by commas); send one value"
        if item.get("type") == "json_invalid":
            # Powertools' location is ("body", <character position>): name the body instead.
            loc = ["body"]
            reason = (item.get("ctx") or {}).get("error") or "not JSON"
            message = f"is not valid JSON: {reason} at position {item['loc'][-1]}"
        name = ".".join(loc)
        named = _NAMED_FIELD.match(message)
        if named and loc in (["body"], []):
            # A model-level check of the body names its field first ("endsAt: must be after
            # startsAt"): the field is that one, not the whole body.
            name, message = named.group(1), named.group(2)
        if loc and not name.strip():
            # A blank JSON key (e.g. {" ": 1}): quoted, so that the caller can see which one.
            name = json.dumps(name)
        fields.setdefault(name or "request", message)
    return fields


class FieldError(BaseModel):
    field: str = Field(description="The parameter or body field that was rejected.")
    reason: str


class ErrorBody(BaseModel):
    """Every error response (400, 404, 413, 415, 503): what went wrong, and each bad field."""

    message: str
    errors: list[FieldError] | None = None


def error_responses(meanings: dict[int, str]) -> dict[int, Any]:
    """OpenAPI `responses` entries for a route's error statuses, each with the shared body."""
    return {
        status: {"description": meaning, "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}}}
        for status, meaning in meanings.items()
    }


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

    @app.exception_handler(RequestValidationError)
    def _parameters(error: RequestValidationError) -> Response[Any]:
        # Routes with typed parameters (enable_validation): 400 like every other bad input,
        # not Powertools' default 422.
        return json_error(400, "invalid request", fields_of_request(error))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(_error: RequestUnsupportedContentType) -> Response[Any]:
        # Instead of Powertools' default {"statusCode": 415, "detail": [...]}: the usual shape.
        return json_error(415, "unsupported content-type", {"content-type": "must be application/json"})

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(_error: UnicodeDecodeError) -> Response[Any]:
        # A JSON body that is not UTF-8 (Powertools decodes it before validating).
        return json_error(400, "body is not UTF-8", {"body": "is not valid UTF-8"})

    @app.exception_handler(RecursionError)
    def _too_deep(_error: RecursionError) -> Response[Any]:
        # A JSON body nested deeper than the parser's recursion limit (Powertools parses it
        # before any route code runs): the caller's input, not a fault of the function.
        return json_error(400, "body is nested too deeply", {"body": "is nested too deeply"})

    @app.exception_handler(InvalidRequestError)
    def _invalid(error: InvalidRequestError) -> Response[Any]:
        # Each domain's bad-request errors carry their own body (e.g. ingest's per-event list).
        body = error.body()
        return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON, body=body)

    @app.exception_handler(NotFoundError)
    def _not_found(error: NotFoundError) -> Response[Any]:
        return json_error(404, str(error))

    @app.exception_handler(UnauthorizedError)
    def _unauthorized(error: UnauthorizedError) -> Response[Any]:
        # The reason stays in the logs: telling a caller why a token failed helps forgers most.
        logger.info("unauthorized", extra={"reason": str(error)})
        return json_error(401, "Unauthorized", headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(IssuerUnavailableError)
    def _issuer_unavailable(error: IssuerUnavailableError) -> Response[Any]:
        logger.warning("identity provider unavailable", extra={"error": str(error)})
        return json_error(503, "tokens cannot be checked now; retry later", headers={"Retry-After": "5"})

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
