"""Serve the template's HttpApi routes on 127.0.0.1, as API Gateway (HTTP API) would.

Each request becomes the payload-format-2.0 proxy event the function receives in AWS (the
same shape as `events/*.json`), the function's handler runs in-process, and its result becomes
the HTTP response. Unknown routes answer 404 and wrong methods 405, as API Gateway does, and the
routes template.yaml protects with a JWT authorizer answer 401 without a valid token, and those
it protects with IAM authorization (the admin routes) 403 without a valid SigV4 signature of a
principal it knows (`recs_tools.local.auth`).

`static` mounts directories under URL prefixes (the storefront demo, the reports), as a CDN in
front of an S3 bucket would serve them next to the API in a deployment: GET and HEAD only,
`index.html` for a directory, nothing outside the mounted directory.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from recs_tools.local.auth import GatewayIamAuthorizer, GatewayJwtAuthorizer, IamAuthorizerConfig
from recs_tools.local.gateway_events import build_http_api_event
from recs_tools.local.stack import REGION
from recs_tools.local.training_runs import PREFIX as TRAINING_RUNS
from recs_tools.local.training_runs import TrainingRuns

if TYPE_CHECKING:  # the stack builds events with this module
    from recs_tools.local.stack import LocalStack

AuthorizerHook = Callable[[dict[str, str]], dict[str, Any] | None]
#: HTTP API quota: "total combined size of request line and header values", 10240 bytes.
MAX_REQUEST_LINE_AND_HEADERS = 10_240


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


# Not every system's mime.types knows these; a browser refuses a module or stylesheet it cannot type.
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}


class StaticFiles:
    """URL prefix -> directory; the longest matching prefix wins."""

    def __init__(self, mounts: Mapping[str, Path]) -> None:
        for prefix in mounts:
            if not (prefix.startswith("/") and prefix.endswith("/")) or prefix.startswith("/api/"):
                raise ValueError(f"static prefix {prefix!r}: must start and end with '/', not under /api/")
        self._mounts = sorted(((p, Path(d)) for p, d in mounts.items()), key=lambda m: -len(m[0]))

    def mounted(self, path: str) -> tuple[str, Path] | None:
        """(prefix, directory) serving `path`, also for the prefix without its trailing slash."""
        for prefix, directory in self._mounts:
            if path.startswith(prefix) or path == prefix[:-1]:
                return prefix, directory
        return None

    @staticmethod
    def resolve(prefix: str, directory: Path, path: str) -> Path | None:
        """The file for `path`, or None when absent or outside `directory` (traversal, symlinks)."""
        relative = unquote(path[len(prefix) :])
        parts = [part for part in relative.split("/") if part]
        if any(part in (".", "..") or "\\" in part or "\0" in part for part in parts):
            return None
        root = directory.resolve()
        target = root.joinpath(*parts)
        if relative == "" or relative.endswith("/"):
            target = target / "index.html"
        target = target.resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
        return target

    @staticmethod
    def content_type(path: Path) -> str:
        suffix = path.suffix.lower()
        return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class LocalApiServer:
    """A threaded HTTP server in front of the stack's functions."""

    def __init__(
        self,
        stack: LocalStack,
        host: str = "127.0.0.1",
        port: int = 3000,
        authorizer: AuthorizerHook | None = None,
        max_body_bytes: int = 10 * 1024 * 1024,
        static: Mapping[str, Path] | None = None,
    ) -> None:
        self.stack = stack
        self.routes = RouteTable(stack)
        # Local-only routes (never in template.yaml): start and follow training runs.
        self.training_runs = TrainingRuns(stack)
        self.static = StaticFiles(static or {})
        self.authorizer = authorizer
        # One emulated JWT authorizer per configuration (each caches its issuer's keys).
        emulators: dict[Any, GatewayJwtAuthorizer] = {}
        self.jwt_authorizers: dict[tuple[str, str], GatewayJwtAuthorizer] = {}
        # The routes IAM authorization protects (the admin routes), by the principals it knows.
        self.iam_authorizer = GatewayIamAuthorizer(REGION)
        self.iam_routes = {
            (route.method, route.path)
            for route in stack.routes
            if isinstance(route.authorizer, IamAuthorizerConfig)
        }
        for route in stack.routes:
            if route.authorizer is not None and not isinstance(route.authorizer, IamAuthorizerConfig):
                if route.authorizer not in emulators:
                    emulators[route.authorizer] = GatewayJwtAuthorizer(route.authorizer)
                self.jwt_authorizers[(route.method, route.path)] = emulators[route.authorizer]
        self.max_body_bytes = max_body_bytes
        # One warm container per function: Lambda gives a container one request at a time, and
        # the handlers keep per-request state in module objects (Powertools' metric dimensions,
        # logger keys). Concurrent requests to a function queue here instead of mixing it.
        self.containers = {route.function: threading.Lock() for route in stack.routes}
        handler = _make_handler(self)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApiServer:
        # Cold starts change the process's environment: done here, before requests arrive on
        # threads of their own, none of them can race with another request's boto3 client. The
        # training functions too: a request to the local training route starts an execution.
        routed = [route.function for route in self.stack.routes]
        trained = [
            name for machine in self.stack.state_machines for name in self.stack.functions_invoked_by(machine)
        ]
        self.stack.cold_start(dict.fromkeys([*routed, *trained]))
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def serve_until_interrupted(self) -> None:
        """Block until Ctrl-C (the server runs in its thread), then stop it."""
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

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

        def _json(
            self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            body = json.dumps(payload).encode()
            self._send(status, body, {"content-type": "application/json", **(headers or {})})

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own refusals (a request line too long to parse...) in the gateway's
            JSON shape instead of an HTML page."""
            self.close_connection = True
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = message or "Error"
            body = json.dumps({"message": message or phrase}).encode()
            self.send_response(code, message)
            self.send_header("content-type", "application/json")
            self.send_header("connection", "close")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _training_runs(self, path: str) -> None:
            """The local-only training routes (`recs_tools.local.training_runs`)."""
            runs = server.training_runs
            run_id = path.removeprefix(TRAINING_RUNS).strip("/")
            if not run_id and self.command == "POST":
                self._json(HTTPStatus.ACCEPTED, runs.start())
            elif not run_id and self.command in ("GET", "HEAD"):
                self._json(HTTPStatus.OK, {"runs": runs.list()})
            elif run_id and "/" not in run_id and self.command in ("GET", "HEAD"):
                run = runs.describe(run_id)
                if run is None:
                    self._json(HTTPStatus.NOT_FOUND, {"message": f"no training run {run_id} started here"})
                else:
                    self._json(HTTPStatus.OK, run)
            elif "/" in run_id:
                self._json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
            else:
                allowed = "GET, HEAD" if run_id else "GET, HEAD, POST"
                refused = {"message": "Method Not Allowed"}
                self._json(HTTPStatus.METHOD_NOT_ALLOWED, refused, {"allow": allowed})

        def _serve_static(self, prefix: str, directory: Path, path: str) -> None:
            if self.command not in ("GET", "HEAD"):
                self._json(
                    HTTPStatus.METHOD_NOT_ALLOWED, {"message": "Method Not Allowed"}, {"allow": "GET, HEAD"}
                )
                return
            if path == prefix[:-1]:
                # Relative links in the index resolve against the directory, not its parent.
                self._send(HTTPStatus.MOVED_PERMANENTLY, b"", {"location": prefix})
                return
            target = server.static.resolve(prefix, directory, path)
            if target is None:
                self._json(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
                return
            headers = {
                "content-type": server.static.content_type(target),
                # A demo edited while it runs should show the edit on the next reload.
                "cache-control": "no-cache",
                "x-content-type-options": "nosniff",
            }
            self._send(HTTPStatus.OK, target.read_bytes(), headers)

        def _dispatch(self) -> None:
            started = time.perf_counter()
            split = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            head_size = len(self.requestline) + sum(len(value) for value in self.headers.values())
            if head_size > MAX_REQUEST_LINE_AND_HEADERS:
                # The gateway refuses it before any route or function sees it.
                self.close_connection = True
                self._json(HTTPStatus.REQUEST_URI_TOO_LONG, {"message": "Request-URI Too Long"})
                return
            if length > server.max_body_bytes:
                # API Gateway refuses payloads over 10 MB before the function runs.
                self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request Entity Too Large"})
                return
            body = self.rfile.read(length) if length else b""
            # After reading any body, so a keep-alive connection stays in step.
            if split.path == TRAINING_RUNS or split.path.startswith(TRAINING_RUNS + "/"):
                self._training_runs(split.path)
                return
            mount = server.static.mounted(split.path)
            if mount is not None:
                self._serve_static(*mount, split.path)
                return
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
            if (self.command, route_path) in server.iam_routes:
                url = f"http://{headers.get('Host') or headers.get('host') or ''}{self.path}"
                authorizer = server.iam_authorizer.authorize(self.command, url, headers, body)
                if authorizer is None:
                    # IAM authorization refuses before the function runs, as API Gateway does.
                    self._json(HTTPStatus.FORBIDDEN, {"message": "Forbidden"})
                    return
            elif jwt_authorizer is not None:
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
                with server.containers[function]:
                    result = server.stack.invoke(function, event)
            except Exception:
                # What API Gateway answers when the function itself crashes.
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
                return
            status, response_headers, payload = _to_http(result)
            response_headers.setdefault("x-local-latency-ms", f"{(time.perf_counter() - started) * 1000:.2f}")
            self._send(status, payload, response_headers)

        do_GET = _dispatch
        do_HEAD = _dispatch
        do_POST = _dispatch
        do_PUT = _dispatch
        do_DELETE = _dispatch
        do_PATCH = _dispatch
        # A method no route declares still gets the gateway's JSON 405, not http.server's HTML 501.
        do_OPTIONS = _dispatch

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, CONNECT, PROPFIND, made-up ones): http.server would answer
            # 501, which API fuzzing counts as a server error; the gateway answers 404 or 405.
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

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
