"""Caller authorization: the subject rule, bearer tokens checked like API Gateway checks them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from recs.auth.caller import Caller, bearer_token, caller_from_claims
from recs.auth.errors import IssuerUnavailableError, UnauthorizedError
from recs.auth.policy import SubjectPolicy
from recs.auth.tokens import JwtVerifier, OidcSigningKeys
from recs.config.auth import AuthSettings
from recs.errors import ForbiddenError

ISSUER = "https://issuer.example/pool"
AUDIENCE = "shop-app"


class Issuer:
    """An RSA key pair published as a JWKS through a fake fetch (no network)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.fetches: list[str] = []
        self.down = False

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def fetch(self, url: str, timeout: float) -> Any:
        self.fetches.append(url)
        if self.down:
            raise IssuerUnavailableError("connection refused")
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": ISSUER, "jwks_uri": ISSUER + "/keys"}
        return self.jwks()

    def token(
        self, subject: str | None = "user_a", *, key: Any = None, kid: str | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
        if subject is not None:
            payload["sub"] = subject
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture(scope="module")
def issuer_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def verifier_for(issuer: Issuer, clock: Clock | None = None) -> JwtVerifier:
    keys = OidcSigningKeys(ISSUER, fetch=issuer.fetch, monotonic=clock or Clock(), refresh_cooldown=30.0)
    return JwtVerifier(keys, audience=AUDIENCE)


# ---------------------------------------------------------------------------- the rule
def test_a_disabled_policy_lets_everyone_act_for_anyone() -> None:
    # Given no issuer configured / When anyone acts for user_b without a token
    policy = SubjectPolicy.disabled()
    policy.require(None, "user_b")
    # Then it is allowed, and recommendation requests keep their userId
    assert policy.admit("user_b", {}).user_id == "user_b"


def test_the_subject_may_act_for_themselves_only() -> None:
    # Given an enabled policy
    policy = SubjectPolicy(enabled=True)
    # When user_a acts for user_a / Then it is allowed
    policy.require(Caller("user_a"), "user_a")
    # When user_a acts for user_b / Then 403
    with pytest.raises(ForbiddenError):
        policy.require(Caller("user_a"), "user_b")
    # When nobody authenticated acts for user_b / Then 401
    with pytest.raises(UnauthorizedError):
        policy.require(None, "user_b")


def test_gateway_claims_name_the_caller_by_the_configured_claim() -> None:
    # Given API Gateway's claims (strings) and a pool whose user id is a custom attribute
    claims = {"sub": "6f1c-uuid", "custom:shopUserId": "user_a", "exp": "1795694400"}
    # Then the caller is the configured claim's value, and missing claims name nobody
    assert SubjectPolicy(enabled=True, subject_claim="custom:shopUserId").gateway_caller(claims) == Caller(
        "user_a"
    )
    assert caller_from_claims(claims, "sub") == Caller("6f1c-uuid")
    assert caller_from_claims({}, "sub") is None
    assert caller_from_claims(None, "sub") is None


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Authorization": "Bearer abc.def.ghi"}, "abc.def.ghi"),
        ({"authorization": "bearer   abc"}, "abc"),
        ({"authorization": "abc"}, "abc"),  # API Gateway also takes the bare token
        ({"authorization": "Bearer "}, None),
        ({"x-other": "1"}, None),
        (None, None),
    ],
)
def test_bearer_tokens_are_read_from_the_authorization_header(
    headers: dict[str, str] | None, token: str | None
) -> None:
    # Given a request's headers / Then the token is the header's, with or without the scheme
    assert bearer_token(headers) == token


# ---------------------------------------------------------------------------- recommendations
def test_a_recommendation_for_a_user_needs_that_users_token(issuer: Issuer) -> None:
    # Given an enabled policy that checks tokens of the issuer
    policy = SubjectPolicy(enabled=True, verifier=verifier_for(issuer))
    # When user_a asks with their own token / Then their userId is kept
    assert policy.admit("user_a", {"authorization": f"Bearer {issuer.token('user_a')}"}).user_id == "user_a"
    # When they ask for user_b / Then 403
    with pytest.raises(ForbiddenError):
        policy.admit("user_b", {"authorization": f"Bearer {issuer.token('user_a')}"})
    # When no token comes with a userId / Then 401
    with pytest.raises(UnauthorizedError):
        policy.admit("user_b", {})


def test_anonymous_requests_need_no_token(issuer: Issuer) -> None:
    # Given an enabled policy / When a request has no userId (anonId only), with or without junk
    policy = SubjectPolicy(enabled=True, verifier=verifier_for(issuer))
    admission = policy.admit(None, {"authorization": "Bearer not-a-token"})
    # Then it is admitted as anonymous without looking at any token
    assert admission.user_id is None
    assert not admission.unverified
    assert issuer.fetches == []


def test_when_the_issuer_is_down_a_user_request_is_served_as_anonymous(issuer: Issuer) -> None:
    # Given an issuer that cannot be reached and no keys fetched before
    issuer.down = True
    policy = SubjectPolicy(enabled=True, verifier=verifier_for(issuer))
    # When a user asks with a token
    admission = policy.admit("user_a", {"authorization": f"Bearer {issuer.token('user_a')}"})
    # Then the userId is dropped (nothing personal for an unchecked caller) and flagged
    assert admission.user_id is None
    assert admission.unverified


# ---------------------------------------------------------------------------- token checks
@pytest.mark.parametrize(
    "tamper",
    [
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "no-subject",
        "foreign-key",
        "unknown-kid",
        "hs256",
        "garbage",
    ],
)
def test_invalid_tokens_are_unauthorized(issuer: Issuer, issuer_key: rsa.RSAPrivateKey, tamper: str) -> None:
    # Given a token broken in one way
    now = int(time.time())
    builders: dict[str, Callable[[], str]] = {
        "expired": lambda: issuer.token(exp=now - 10, iat=now - 400),
        "wrong-issuer": lambda: issuer.token(iss="https://evil.example"),
        "wrong-audience": lambda: issuer.token(aud="another-app"),
        "no-subject": lambda: issuer.token(None),
        "foreign-key": lambda: issuer.token(key=issuer_key),
        "unknown-kid": lambda: issuer.token(key=issuer_key, kid="key-2"),
        "hs256": lambda: jwt.encode(
            {"sub": "user_a", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 60}, "s" * 32
        ),
        "garbage": lambda: "not.a.token",
    }
    token = builders[tamper]()
    # When it is verified / Then it is refused as unauthorized
    with pytest.raises(UnauthorizedError):
        verifier_for(issuer).verify(token)


def test_cognito_access_tokens_are_matched_by_client_id(issuer: Issuer) -> None:
    # Given an access token (no aud; client_id carries the app client), as Cognito issues them
    now = int(time.time())
    token = jwt.encode(
        {"iss": ISSUER, "sub": "user_a", "client_id": AUDIENCE, "token_use": "access", "exp": now + 60},
        issuer.key,
        algorithm="RS256",
        headers={"kid": issuer.kid},
    )
    # When it is verified / Then its subject is the caller
    assert verifier_for(issuer).verify(token) == Caller("user_a")


def test_keys_are_fetched_once_and_refreshed_on_rotation_at_most_every_cooldown(issuer: Issuer) -> None:
    # Given a verifier that has checked one token (discovery + keys fetched)
    clock = Clock()
    verifier = verifier_for(issuer, clock)
    verifier.verify(issuer.token())
    verifier.verify(issuer.token())
    assert len(issuer.fetches) == 2
    # When the issuer rotates to a new key
    issuer.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer.kid = "key-2"
    clock.now += 31
    # Then the first token with the new kid refreshes the keys once and passes
    assert verifier.verify(issuer.token()) == Caller("user_a")
    assert len(issuer.fetches) == 3
    # And forged kids within the cooldown fetch nothing more
    with pytest.raises(UnauthorizedError):
        verifier.verify(issuer.token(kid="forged"))
    assert len(issuer.fetches) == 3


def test_known_keys_keep_working_while_the_issuer_is_briefly_down(issuer: Issuer) -> None:
    # Given keys fetched an hour and a bit ago (past their lifespan)
    clock = Clock()
    verifier = verifier_for(issuer, clock)
    verifier.verify(issuer.token())
    clock.now += 3700
    # When the issuer is down / Then the known keys still verify tokens (bounded staleness)
    issuer.down = True
    assert verifier.verify(issuer.token()) == Caller("user_a")
    # And after the staleness bound, the verifier says the issuer is unavailable
    clock.now += 6 * 3600
    with pytest.raises(IssuerUnavailableError):
        verifier.verify(issuer.token())


# ---------------------------------------------------------------------------- settings
def test_an_issuer_needs_an_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an issuer without an audience / When the settings load / Then they refuse
    monkeypatch.setenv("AUTH_ISSUER_URL", ISSUER)
    monkeypatch.delenv("AUTH_AUDIENCE", raising=False)
    with pytest.raises(ValueError, match="AUTH_AUDIENCE"):
        AuthSettings()
    # And an explicitly empty issuer disables authorization
    monkeypatch.setenv("AUTH_ISSUER_URL", "")
    assert not AuthSettings().auth_enabled


def test_an_issuer_outage_costs_one_fetch_per_cooldown_not_one_per_request(issuer: Issuer) -> None:
    # Given an issuer that is down and a verifier that never had its keys
    issuer.down = True
    clock = Clock()
    verifier = verifier_for(issuer, clock)
    # When many requests arrive within the cooldown
    for _ in range(5):
        with pytest.raises(IssuerUnavailableError):
            verifier.verify(issuer.token())
    # Then the issuer was asked once; after the cooldown, once more, and it is used once back
    assert len(issuer.fetches) == 1
    clock.now += 31
    issuer.down = False
    assert verifier.verify(issuer.token()) == Caller("user_a")
    assert len(issuer.fetches) == 3  # discovery (retried) and keys


def test_a_discovery_document_naming_another_issuer_is_refused(issuer: Issuer) -> None:
    # Given an issuer whose discovery document names someone else (OIDC Discovery: must match)
    real = issuer.fetch

    def impostor(url: str, timeout: float) -> Any:
        found = real(url, timeout)
        return {**found, "issuer": "https://evil.example"} if url.endswith("openid-configuration") else found

    keys = OidcSigningKeys(ISSUER, fetch=impostor, monotonic=Clock(), refresh_cooldown=30.0)
    # When a token is verified / Then no key is trusted: the key set it names is never fetched
    with pytest.raises(IssuerUnavailableError, match="no signing keys"):
        JwtVerifier(keys, audience=AUDIENCE).verify(issuer.token())
    assert not [url for url in issuer.fetches if url.endswith("/keys")]


def test_a_token_from_a_clock_a_few_seconds_ahead_passes_within_the_leeway(issuer: Issuer) -> None:
    # Given a token issued 10 s "in the future" (the issuer's clock runs ahead)
    now = int(time.time())
    early = issuer.token(iat=now + 10, nbf=now + 10)
    keys = OidcSigningKeys(ISSUER, fetch=issuer.fetch, monotonic=Clock(), refresh_cooldown=30.0)
    # Then the default leeway of the settings (30 s) accepts it, and no leeway refuses it
    assert AuthSettings.model_fields["auth_leeway_seconds"].default == 30.0
    assert JwtVerifier(keys, audience=AUDIENCE, leeway_seconds=30.0).verify(early).subject == "user_a"
    with pytest.raises(UnauthorizedError):
        JwtVerifier(keys, audience=AUDIENCE, leeway_seconds=0.0).verify(early)


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", True),
        ("http://127.0.0.1:4000/issuer", True),
        ("http://localhost:4000", True),
        ("http://issuer.example", False),
        ("ftp://issuer.example", False),
        ("https://", False),
    ],
)
def test_only_https_issuers_are_accepted_outside_the_local_stack(
    monkeypatch: pytest.MonkeyPatch, url: str, accepted: bool
) -> None:
    monkeypatch.setenv("AUTH_ISSUER_URL", url)
    monkeypatch.setenv("AUTH_AUDIENCE", AUDIENCE)
    if accepted:
        assert AuthSettings().auth_issuer_url == url
    else:
        with pytest.raises(ValueError, match="https"):
            AuthSettings()
