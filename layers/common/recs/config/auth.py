"""Authorization settings, shared by the functions that serve a user's data."""

from __future__ import annotations

from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from recs.config.common import FunctionSettings

#: Hosts where an http:// issuer is accepted: the local stack and tests, never a deployment.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class AuthSettings(FunctionSettings):
    """The shop's identity provider; an explicitly empty ``AUTH_ISSUER_URL`` disables
    authorization (template parameter ``AuthIssuerUrl``)."""

    auth_issuer_url: str = Field(
        description="OIDC issuer of shoppers' tokens (Cognito: https://cognito-idp.<region>.amazonaws.com/"
        "<pool id>); empty disables caller authorization."
    )
    auth_audience: str = Field(
        default="",
        description="The audience tokens must carry (`aud`, or `client_id` of Cognito access tokens): "
        "the app client id. Required when an issuer is set.",
    )
    auth_subject_claim: str = Field(
        default="sub", min_length=1, description="The claim holding the shop's user id; default `sub`."
    )
    auth_jwks_timeout_seconds: float = Field(
        default=2.0, gt=0, le=10, description="Timeout of each fetch of the issuer's keys; default 2 s."
    )
    auth_jwks_cache_seconds: float = Field(
        default=3600.0, gt=0, le=86_400, description="How long fetched keys are used; default 1 h."
    )
    auth_leeway_seconds: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description="Tolerated clock skew on exp/nbf/iat; default 30 s (a token issued by a clock a "
        "few seconds ahead is not refused).",
    )

    @field_validator("auth_issuer_url")
    @classmethod
    def _issuer_is_an_https_url(cls, value: str) -> str:
        if not value:
            return value
        host = urlsplit(value).hostname or ""
        if value.startswith("https://") and host:
            return value
        if value.startswith("http://") and host in LOCAL_HOSTS:
            return value  # the local stack's issuer emulation
        raise ValueError("AUTH_ISSUER_URL must be empty or an https:// URL (http:// only on localhost)")

    @model_validator(mode="after")
    def _issuer_needs_audience(self) -> Self:
        if self.auth_issuer_url and not self.auth_audience:
            raise ValueError("AUTH_AUDIENCE is required when AUTH_ISSUER_URL is set")
        return self

    @property
    def auth_enabled(self) -> bool:
        return bool(self.auth_issuer_url)
