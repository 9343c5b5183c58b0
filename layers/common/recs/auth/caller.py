"""Who is calling: a verified subject, from API Gateway's JWT claims or a checked bearer token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_BEARER = "bearer "


@dataclass(frozen=True)
class Caller:
    """A caller whose token was verified; `subject` is the shop's user id it speaks for."""

    subject: str


def bearer_token(headers: Mapping[str, str] | None) -> str | None:
    """The token of an ``Authorization`` header (``Bearer <token>``, or the bare token as API
    Gateway's JWT authorizer also accepts), or None when there is none."""
    if not headers:
        return None
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    value = value.strip()
    if value.lower() == _BEARER.strip():
        return None
    if value.lower().startswith(_BEARER):
        value = value[len(_BEARER) :].strip()
    return value or None


def caller_from_claims(claims: Mapping[str, Any] | None, subject_claim: str) -> Caller | None:
    """The caller API Gateway's JWT authorizer verified (``requestContext.authorizer.jwt.claims``),
    or None when the request carries no such claims or not the subject claim."""
    if not claims:
        return None
    subject = claims.get(subject_claim)
    if not isinstance(subject, str) or not subject:
        return None
    return Caller(subject)


def iam_principal(request_context: Mapping[str, Any] | None) -> str | None:
    """The IAM principal API Gateway's IAM authorization verified (``authorizer.iam``): its ARN
    (an assumed role's session ARN names the session), or None without IAM authorization."""
    iam = ((request_context or {}).get("authorizer") or {}).get("iam")
    if not isinstance(iam, Mapping):
        return None
    for key in ("userArn", "callerId", "userId"):
        value = iam.get(key)
        if isinstance(value, str) and value:
            return value
    return None
