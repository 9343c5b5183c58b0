"""Wiring of caller authorization (recommend and privacy functions)."""

from __future__ import annotations

from recs.auth.policy import SubjectPolicy
from recs.config.auth import AuthSettings


def subject_policy(settings: AuthSettings, *, verify_tokens: bool) -> SubjectPolicy:
    """The policy of a function; `verify_tokens` for routes API Gateway does not check itself.

    PyJWT (and ``cryptography``) are imported only when authorization is enabled, and the
    issuer's keys are fetched on first use, so a cold start makes no network call.
    """
    if not settings.auth_enabled:
        return SubjectPolicy.disabled()
    verifier = None
    if verify_tokens:
        from recs.auth.tokens import JwtVerifier, OidcSigningKeys

        keys = OidcSigningKeys(
            settings.auth_issuer_url,
            timeout=settings.auth_jwks_timeout_seconds,
            lifespan=settings.auth_jwks_cache_seconds,
        )
        verifier = JwtVerifier(
            keys,
            audience=settings.auth_audience,
            subject_claim=settings.auth_subject_claim,
            leeway_seconds=settings.auth_leeway_seconds,
        )
    return SubjectPolicy(enabled=True, subject_claim=settings.auth_subject_claim, verifier=verifier)
