"""Serve the template's HttpApi routes on 127.0.0.1, as API Gateway (HTTP API) would.

Each request becomes the payload-format-2.0 proxy event the function receives in AWS (the
same shape as `events/*.json`), the function's handler runs in-process, and its result becomes
the HTTP response. Unknown routes answer 404 and wrong methods 405, as API Gateway does, and the
routes template.yaml protects with a JWT authorizer answer 401 without a valid token
(`recs.local.auth`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from recs.local.auth import GatewayJwtAuthorizer

if TYPE_CHECKING:  # the stack builds events with this module
    from recs.local.stack import LocalStack

AuthorizerHook = Callable[[dict[str, str]], dict[str, Any] | None]


class RouteTable:
    def __init__(self, stack: LocalStack) -> None:
        self._routes: list[tuple[str, re.Pattern[str], str, str]] = []
        for route in stack.routes:
            pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path)) + "$"
            self._routes.append((route.method, re.compile(pattern), route.path, route.function))

    def match(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | bool | None:
        """(function, route path, path params); False when the path exists with another method."""
        path_matched = False
        for route_method, pattern, route_path, function in self._routes:
            found = pattern.match(path)
            if found:
                path_matched = True
                if route_method == method:
                    return function, route_path, found.groupdict()
        return False if path_matched else None


def build_http_api_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    route_path: str,
    path_parameters: dict[str, str],
    source_ip: str = "127.0.0.1",
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload format 2.0) event for one request."""
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        # HTTP APIs join repeated query parameters with commas.
        query[key] = f"{query[key]},{value}" if key in query else value
    lowered = {key.lower(): value for key, value in headers.items()}
    is_text = body == b"" or _looks_textual(lowered.get("content-type", ""))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {route_path}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{method} {route_path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode("ascii")
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    return event


def _looks_textual(content_type: str) -> bool:
    return content_type.startswith(("text/", "application/json")) or "json" in content_type


class LocalApiServer:
    """A threaded HTTP server in front of the stack's functions."""

    def __init__(
        self,
        stack: LocalStack,
        host: str = "127.0.0.1",
        port: int = 3000,
        authorizer: AuthorizerHook | None = None,
        max_body_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.stack = stack
        self.routes = RouteTable(stack)
        self.authorizer = authorizer
        # One emulated JWT authorizer per configuration (each caches its issuer's keys).
        emulators: dict[Any, GatewayJwtAuthorizer] = {}
        self.jwt_authorizers: dict[tuple[str, str], GatewayJwtAuthorizer] = {}
        for route in stack.routes:
            if route.authorizer is not None:
                if route.authorizer not in emulators:
                    emulators[route.authorizer] = GatewayJwtAuthorizer(route.authorizer)
                self.jwt_authorizers[(route.method, route.path)] = emulators[route.authorizer]
        self.max_body_bytes = max_body_bytes
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _make_handler(server: LocalApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; with Nagle's algorithm on, keep-alive
        # clients would wait ~40 ms for the delayed ACK on every response.
        disable_nagle_algorithm = True
        server_version = "recs-local-api"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), {"content-type": "application/json"})

        def _dispatch(self) -> None:
            started = time.perf_counter()
            split = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length > server.max_body_bytes:
                # API Gateway refuses payloads over 10 MB before the function runs.
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Entity Too Large"})
                return
            body = self.rfile.read(length) if length else b""
            matched = server.routes.match(self.command, split.path)
            if matched is None:
                self._json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
                return
            if matched is False:
                self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Method Not Allowed"})
                return
            assert isinstance(matched, tuple)
            function, route_path, path_parameters = matched
            headers = dict(self.headers.items())
            authorizer = server.authorizer(headers) if server.authorizer else None
            jwt_authorizer = server.jwt_authorizers.get((self.command, route_path))
            if jwt_authorizer is not None:
                authorizer = jwt_authorizer.authorize(headers)
                if authorizer is None:
                    # API Gateway answers before the function runs.
                    self._send(
                        HTTPStatus.UNAUTHORIZED,
                        b'{"message":"Unauthorized"}',
                        {"content-type": "application/json", "www-authenticate": "Bearer"},
                    )
                    return
            event = build_http_api_event(
                method=self.command,
                raw_path=split.path,
                raw_query=split.query,
                headers=headers,
                body=body,
                route_path=route_path,
                path_parameters=path_parameters,
                source_ip=self.client_address[0],
                authorizer=authorizer,
            )
            try:
                result = server.stack.invoke(function, event)
            except Exception:
                # What API Gateway answers when the function itself crashes.
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
                return
            status, response_headers, payload = _to_http(result)
            response_headers.setdefault("x-local-latency-ms", f"{(time.perf_counter() - started) * 1000:.2f}")
            self._send(status, payload, response_headers)

        do_GET = _dispatch
        do_POST = _dispatch
        do_PUT = _dispatch
        do_DELETE = _dispatch
        do_PATCH = _dispatch

    return Handler


def _to_http(result: Any) -> tuple[int, dict[str, str], bytes]:
    """Payload format 2.0 response: a dict with statusCode, or any JSON value (200)."""
    if isinstance(result, dict) and "statusCode" in result:
        headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[str(key).lower()] = ",".join(str(v) for v in values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
        return int(result["statusCode"]), headers, payload
    return 200, {"content-type": "application/json"}, json.dumps(result).encode("utf-8")
