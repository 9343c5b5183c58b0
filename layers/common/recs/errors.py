"""Typed errors. Handlers map them to HTTP responses in one place; nobody matches on messages."""

from __future__ import annotations

from typing import Any


class RecsError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidRequestError(RecsError):
    """The caller sent something we cannot accept (4xx). `fields` maps each bad field to why."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.fields = fields or {}
        self.status = status

    def body(self) -> dict[str, Any]:
        """The response body: the message and each bad field; a subclass may add its own keys
        (the HTTP mapper knows only this method, not every domain's errors)."""
        body: dict[str, Any] = {"message": str(self)}
        if self.fields:
            body["errors"] = [{"field": name, "reason": reason} for name, reason in self.fields.items()]
        return body


class NotFoundError(RecsError):
    """The addressed resource does not exist (404)."""


class ForbiddenError(RecsError):
    """The caller may not act on this subject (403)."""


class ServiceUnavailableError(RecsError):
    """No tier can answer right now (503); `retry_after` seconds is a hint for the caller."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryError(RecsError):
    """Events could not be delivered to the event sink after retries."""

    def __init__(self, message: str, undelivered: int) -> None:
        super().__init__(message)
        self.undelivered = undelivered


class StoreUnavailableError(RecsError):
    """A backing store (DynamoDB, S3) failed after bounded retries."""
