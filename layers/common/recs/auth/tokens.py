"""Bearer tokens checked the way API Gateway's JWT authorizer checks them, with PyJWT.

The issuer's signing keys are found as API Gateway finds them: the OIDC discovery document
(``<issuer>/.well-known/openid-configuration``) names the ``jwks_uri``. A token is valid when it
is signed with RS256/384/512 by a key of that set (matched by ``kid``), its ``iss`` is the
issuer, it has not expired (``exp`` required; ``nbf`` and ``iat`` checked when present), and its
``aud`` (ID tokens) or ``client_id`` (Cognito access tokens) is the configured audience.

Importing this module imports PyJWT and ``cryptography``; the wiring imports it only when
authorization is enabled, so a function without an issuer pays nothing for it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import jwt

from recs.auth.caller import Caller
from recs.auth.errors import IssuerUnavailableError, UnauthorizedError

#: API Gateway's JWT authorizers accept RSA signatures only.
ALGORITHMS = ("RS256", "RS384", "RS512")
DISCOVERY_PATH = "/.well-known/openid-configuration"

FetchJson = Callable[[str, float], Any]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch_json(url: str, timeout: float) -> Any:
    """GET a JSON document over http(s), without following redirects.

    Raises
    ------
    IssuerUnavailableError
        The document cannot be fetched or is not JSON.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise IssuerUnavailableError(f"not an http(s) URL: {url}")
    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(url, headers={"accept": "application/json"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return json.load(response)
    except (OSError, ValueError) as error:  # URLError, timeouts and HTTP errors are OSErrors
        raise IssuerUnavailableError(f"{url}: {type(error).__name__}") from error


class OidcSigningKeys:
    """The signing keys of an OIDC issuer, cached per container.

    The key set is fetched on first use and kept for ``lifespan`` seconds; a token signed with a
    key the set does not hold (the issuer rotated its keys) triggers a refresh. Fetches happen at
    most every ``refresh_cooldown`` seconds, so neither forged ``kid`` values nor an issuer outage
    make every request wait on the network. When the issuer cannot be reached, the last set
    fetched keeps being used for up to ``max_stale`` seconds; without one `IssuerUnavailableError`
    is raised.
    """

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float = 2.0,
        lifespan: float = 3600.0,
        refresh_cooldown: float = 30.0,
        max_stale: float = 6 * 3600.0,
        fetch: FetchJson = fetch_json,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer  # compared with `iss` exactly, as API Gateway does
        self._timeout = timeout
        self._lifespan = lifespan
        self._cooldown = refresh_cooldown
        self._max_stale = max_stale
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        """The key a token's ``kid`` names.

        Raises
        ------
        UnauthorizedError
            No key of the issuer has this id (after one refresh).
        IssuerUnavailableError
            The keys cannot be fetched and no recent copy is held.
        """
        if not kid:
            raise UnauthorizedError("the token names no signing key (kid)")
        with self._lock:
            now = self._monotonic()
            if now - self._fetched_at >= self._lifespan:
                self._refresh(now)
            if not self._keys or now - self._fetched_at >= self._max_stale:
                raise IssuerUnavailableError(f"no signing keys of {self.issuer} can be had")
            key = self._keys.get(kid)
            if key is None:
                self._refresh(now)  # the issuer may have rotated its keys
                key = self._keys.get(kid)
        if key is None:
            raise UnauthorizedError("the token is signed by a key the issuer does not publish")
        return key

    def _refresh(self, now: float) -> None:
        """Fetch the key set, at most once per ``refresh_cooldown``; a failure keeps what is held
        (an issuer outage should not lock shoppers out while recent keys are known)."""
        if now - self._attempted_at < self._cooldown:
            return
        self._attempted_at = now
        try:
            if self._jwks_uri is None:
                discovery = self._fetch(self.issuer.rstrip("/") + DISCOVERY_PATH, self._timeout)
                if not isinstance(discovery, dict) or not isinstance(discovery.get("jwks_uri"), str):
                    raise IssuerUnavailableError("the discovery document names no jwks_uri")
                if discovery.get("issuer") != self.issuer:
                    # OIDC Discovery: the document's issuer must be the configured one, exactly.
                    named = discovery.get("issuer")
                    raise IssuerUnavailableError(
                        f"the discovery document names issuer {named!r}, not {self.issuer!r}"
                    )
                self._jwks_uri = discovery["jwks_uri"]
            document = self._fetch(self._jwks_uri, self._timeout)
            keys = jwt.PyJWKSet.from_dict(document).keys if isinstance(document, dict) else []
        except (IssuerUnavailableError, jwt.PyJWTError):
            return
        self._keys = {key.key_id: key for key in keys if key.key_id and key.public_key_use in ("sig", None)}
        self._fetched_at = now


class JwtVerifier:
    """Checks bearer tokens of one issuer and audience (`TokenVerifier`).

    Parameters
    ----------
    keys
        The issuer's signing keys (`OidcSigningKeys`).
    audience
        Accepted audience(s): in ``aud`` or, for Cognito access tokens (which carry none), in
        ``client_id``.
    subject_claim
        The claim holding the shop's user id.
    leeway_seconds
        Tolerated clock difference for ``exp``/``nbf``/``iat``.
    """

    def __init__(
        self,
        keys: OidcSigningKeys,
        *,
        audience: str | Sequence[str],
        subject_claim: str = "sub",
        leeway_seconds: float = 0.0,
    ) -> None:
        self._keys = keys
        self._issuer = keys.issuer
        self._audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        self._subject_claim = subject_claim
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Caller:
        claims = self.claims(token)
        subject = claims.get(self._subject_claim)
        if not isinstance(subject, str) or not subject:
            raise UnauthorizedError(f"the token has no {self._subject_claim} claim")
        return Caller(subject)

    def claims(self, token: str) -> dict[str, Any]:
        """The verified claims of a token (what API Gateway hands a protected route)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise UnauthorizedError("the token is not a JWT") from error
        if header.get("alg") not in ALGORITHMS:
            raise UnauthorizedError("the token is not signed with an RSA algorithm")
        key = self._keys.key_for(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise UnauthorizedError(f"the token is not valid ({type(error).__name__})") from error
        audiences = claims.get("aud")
        carried = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if not set(self._audiences) & {*carried, claims.get("client_id")}:
            raise UnauthorizedError("the token is for another audience")
        return claims
