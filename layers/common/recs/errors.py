"""Typed errors. Handlers map them to HTTP responses in one place; nobody matches on messages."""

from __future__ import annotations


class RecsError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidRequestError(RecsError):
    """The caller sent something we cannot accept (4xx). `fields` maps each bad field to why."""

    def __init__(self, message: str, fields: dict[str, str] | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.fields = fields or {}
        self.status = status


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
