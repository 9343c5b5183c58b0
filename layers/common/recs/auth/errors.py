"""Authorization errors (mapped to HTTP in `recs.api.errors`)."""

from __future__ import annotations

from recs.errors import RecsError


class UnauthorizedError(RecsError):
    """The request carries no usable token (401): missing, malformed, expired, wrong issuer or
    audience, or signed by an unknown key."""


class IssuerUnavailableError(RecsError):
    """The issuer's signing keys cannot be fetched, so no token can be checked right now."""
