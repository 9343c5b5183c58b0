"""Caller authorization on the local stack: a test OIDC issuer, and API Gateway's JWT authorizer.

- `LocalIssuer` stands in for the shop's identity provider (a Cognito user pool or any OIDC
  issuer): an RSA key generated when it starts, its discovery document and JWKS served on
  127.0.0.1, and tokens for any subject. A stack started with ``AuthIssuerUrl`` set to its URL
  (and ``AuthAudience`` to its audience) checks tokens exactly as deployed: the functions fetch
  the keys over HTTP from it.
- `route_authorizers` reads which routes template.yaml's HttpApi protects (its DefinitionBody's
  ``security`` and ``x-amazon-apigateway-authorizer`` entries, conditions resolved), and
  `GatewayJwtAuthorizer` does what API Gateway's JWT authorizer does for them: 401
  ``{"message": "Unauthorized"}`` unless the token is valid, else the function receives its
  claims in ``requestContext.authorizer.jwt``.
- `GatewayIamAuthorizer` does what IAM authorization does for the routes whose security scheme
  is ``awsSigv4`` (the admin routes): 403 ``{"message": "Forbidden"}`` unless the request carries
  a valid SigV4 signature (service ``execute-api``) of a principal it knows (`LOCAL_ADMIN`: the
  local stack has no IAM policies, so knowing the key is being allowed), else the function
  receives the principal in ``requestContext.authorizer.iam``
  (`recs_tools.rules_client` signs requests as any AWS SDK does).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from recs.auth.caller import bearer_token
from recs.auth.errors import IssuerUnavailableError, UnauthorizedError

LOCAL_AUDIENCE = "recs-local"
_JWKS_PATH = "/.well-known/jwks.json"
_DISCOVERY_PATH = "/.well-known/openid-configuration"


# ---------------------------------------------------------------------------- the test issuer
class LocalIssuer:
    """A minimal OIDC issuer on 127.0.0.1 for tests and the demo (never for real users)."""

    def __init__(self, *, audience: str = LOCAL_AUDIENCE, host: str = "127.0.0.1", port: int = 0) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.audience = audience
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(8)
        self._httpd = ThreadingHTTPServer((host, port), _issuer_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalIssuer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="local-issuer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stack_parameters(self) -> dict[str, str]:
        """The template parameters that make a local stack trust this issuer."""
        return {"AuthIssuerUrl": self.url, "AuthAudience": self.audience}

    def jwks(self) -> dict[str, Any]:
        from jwt.algorithms import RSAAlgorithm

        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": self.url + _JWKS_PATH,
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def token(
        self,
        subject: str,
        *,
        audience: str | None = None,
        expires_in: float = 300.0,
        issuer: str | None = None,
        claims: Mapping[str, Any] | None = None,
        signing_key: Any = None,
    ) -> str:
        """A signed ID token for `subject` (override any part to build an invalid one)."""
        import jwt

        now = int(time.time())
        payload = {
            "iss": issuer or self.url,
            "sub": subject,
            "aud": audience or self.audience,
            "iat": now,
            "exp": now + int(expires_in),
            **(claims or {}),
        }
        return jwt.encode(payload, signing_key or self._key, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, subject: str, **kwargs: Any) -> dict[str, str]:
        """The Authorization header of a request made as `subject`."""
        return {"authorization": f"Bearer {self.token(subject, **kwargs)}"}


def _issuer_handler(issuer: LocalIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            documents = {_DISCOVERY_PATH: issuer.discovery, _JWKS_PATH: issuer.jwks}
            produce = documents.get(self.path)
            if produce is None:
                self.send_error(404)
                return
            body = json.dumps(produce()).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# ---------------------------------------------------------------------------- API Gateway's side
@dataclass(frozen=True)
class IamPrincipal:
    """An IAM principal with an access key: who a SigV4 signature says is calling."""

    access_key: str
    secret_key: str
    arn: str
    user_id: str


#: The local stack's operator: the principal the emulated IAM authorization knows.
LOCAL_ADMIN = IamPrincipal(
    access_key="AKIALOCALADMIN000000",
    secret_key="local-admin-secret-key-for-the-local-stack-only",
    arn="arn:aws:iam::123456789012:user/local-admin",
    user_id="AIDALOCALADMIN000000",
)
_SIGV4 = "AWS4-HMAC-SHA256"


def local_admin_credentials() -> Any:
    """`LOCAL_ADMIN`'s keys as botocore credentials, to sign requests as the local operator."""
    from botocore.credentials import Credentials

    return Credentials(LOCAL_ADMIN.access_key, LOCAL_ADMIN.secret_key)


#: API Gateway refuses a signature more than 5 minutes from its clock (as SigV4 services do).
MAX_SIGNATURE_SKEW_SECONDS = 300


@dataclass(frozen=True)
class IamAuthorizerConfig:
    """IAM authorization of a route (security scheme with ``x-amazon-apigateway-authtype: awsSigv4``)."""

    name: str


@dataclass(frozen=True)
class JwtAuthorizerConfig:
    """A JWT authorizer of the HttpApi, as a route uses it."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_source: str
    scopes: tuple[str, ...] = ()


RouteAuthorizer = JwtAuthorizerConfig | IamAuthorizerConfig


def route_authorizers(
    definition_body: Mapping[str, Any] | None,
) -> dict[tuple[str, str], RouteAuthorizer]:
    """{(METHOD, path): authorizer} of an HttpApi's (resolved) DefinitionBody.

    Raises
    ------
    NotImplementedError
        For an authorizer API Gateway has but this emulation does not (Lambda).
    """
    if not definition_body:
        return {}
    schemes = (definition_body.get("components") or {}).get("securitySchemes") or {}
    routes: dict[tuple[str, str], RouteAuthorizer] = {}
    for path, item in (definition_body.get("paths") or {}).items():
        for method, operation in (item or {}).items():
            for requirement in (operation or {}).get("security") or []:
                for name, scopes in requirement.items():
                    scheme = schemes.get(name) or {}
                    if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
                        routes[(method.upper(), path)] = IamAuthorizerConfig(name)
                        continue
                    authorizer = scheme.get("x-amazon-apigateway-authorizer") or {}
                    if authorizer.get("type") != "jwt":
                        raise NotImplementedError(
                            f"{method.upper()} {path}: authorizer {name} is not a JWT authorizer; the "
                            "local API only emulates those"
                        )
                    config = authorizer["jwtConfiguration"]
                    routes[(method.upper(), path)] = JwtAuthorizerConfig(
                        name=name,
                        issuer=str(config["issuer"]),
                        audiences=tuple(str(a) for a in config.get("audience") or ()),
                        identity_source=str(
                            authorizer.get("identitySource", "$request.header.Authorization")
                        ),
                        scopes=tuple(scopes or ()),
                    )
    return routes


class GatewayJwtAuthorizer:
    """API Gateway's JWT authorizer for one configuration (keys fetched from the issuer)."""

    def __init__(self, config: JwtAuthorizerConfig) -> None:
        from recs.auth.tokens import JwtVerifier, OidcSigningKeys

        prefix = "$request.header."
        if not config.identity_source.startswith(prefix):
            raise NotImplementedError(f"identity source {config.identity_source} is not emulated")
        self.config = config
        self._header = config.identity_source.removeprefix(prefix).lower()
        self._verifier = JwtVerifier(OidcSigningKeys(config.issuer), audience=config.audiences)

    def authorize(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The ``requestContext.authorizer`` of an authorized request, None for a 401."""
        lowered = {key.lower(): value for key, value in headers.items()}
        token = bearer_token({"authorization": lowered.get(self._header, "")})
        if token is None:
            return None
        try:
            claims = self._verifier.claims(token)
        except (UnauthorizedError, IssuerUnavailableError):
            return None
        granted = _scopes(claims)
        if self.config.scopes and not set(self.config.scopes) & set(granted):
            return None
        return {
            "jwt": {
                "claims": {k: gateway_claim(v) for k, v in claims.items()},
                "scopes": granted or None,
            }
        }


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return scope.split()
    return [str(s) for s in scope] if isinstance(scope, list) else []


def gateway_claim(value: Any) -> str:
    """Claims reach the function as strings; API Gateway writes lists as ``[a b]``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


class GatewayIamAuthorizer:
    """IAM authorization of API Gateway for the routes that need it: a SigV4 signature checked
    against the secret key of a principal it knows."""

    def __init__(self, region: str, principals: tuple[IamPrincipal, ...] = (LOCAL_ADMIN,)) -> None:
        self.region = region
        self._principals = {principal.access_key: principal for principal in principals}

    def authorize(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any] | None:
        """The ``requestContext.authorizer`` of a correctly signed request, None for a 403."""
        from datetime import UTC, datetime

        lowered = {key.lower(): value for key, value in headers.items()}
        parsed = _sigv4_header(lowered.get("authorization", ""))
        amz_date = lowered.get("x-amz-date", "")
        if parsed is None or not amz_date:
            return None
        access_key, scope, signed_headers, signature = parsed
        principal = self._principals.get(access_key)
        if principal is None or scope[1:] != [self.region, "execute-api", "aws4_request"]:
            return None
        try:
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        if scope[0] != amz_date[:8] or abs(time.time() - signed_at.timestamp()) > MAX_SIGNATURE_SKEW_SECONDS:
            return None
        if not set(signed_headers) >= {"host", "x-amz-date"} or not set(signed_headers) <= set(lowered):
            return None
        expected = _signature(
            principal, self.region, method, url, {h: lowered[h] for h in signed_headers}, body, amz_date
        )
        if not secrets.compare_digest(expected, signature):
            return None
        return {
            "iam": {
                "accessKey": principal.access_key,
                "accountId": principal.arn.split(":")[4],
                "callerId": principal.user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": principal.arn,
                "userId": principal.user_id,
            }
        }


def _sigv4_header(value: str) -> tuple[str, list[str], list[str], str] | None:
    """(access key, [date, region, service, terminator], signed headers, signature) or None."""
    if not value.startswith(_SIGV4 + " "):
        return None
    parts: dict[str, str] = {}
    for part in value[len(_SIGV4) + 1 :].split(","):
        key, _, item = part.strip().partition("=")
        parts[key] = item
    credential = parts.get("Credential", "").split("/")
    if len(credential) != 5 or not parts.get("SignedHeaders") or not parts.get("Signature"):
        return None
    return credential[0], credential[1:], parts["SignedHeaders"].split(";"), parts["Signature"]


def _signature(
    principal: IamPrincipal,
    region: str,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    amz_date: str,
) -> str:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(principal.access_key, principal.secret_key), "execute-api", region)
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))
