"""`LocalApiServer(static=...)`: directories under URL prefixes next to the API, nothing outside them."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from recs_tools.local.http import LocalApiServer, StaticFiles
from recs_tools.local.stack import LocalStack


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Served:
    server: LocalApiServer
    root: Path

    def request(self, method: str, raw_path: str, body: bytes | None = None) -> Response:
        """Send `raw_path` as is: urllib would normalize the `..` the traversal tests need."""
        host, port = self.server.httpd.server_address[:2]
        connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
        try:
            connection.request(method, raw_path, body=body)
            response = connection.getresponse()
            return Response(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # Given a site directory, a data directory mounted inside its prefix, and a secret beside them
    root = tmp_path_factory.mktemp("static")
    site, data = root / "site", root / "data"
    (site / "nested").mkdir(parents=True)
    data.mkdir()
    (site / "index.html").write_text("<h1>shop</h1>")
    (site / "app.js").write_text("console.log(1);")
    (site / "style.css").write_text("body {}")
    (site / "nested" / "index.html").write_text("nested")
    (data / "shop.json").write_text('{"from": "data"}')
    (site / "shop.json").write_text('{"from": "site"}')
    (root / "secret.txt").write_text("secret")
    (site / "escape.txt").symlink_to(root / "secret.txt")
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        server = LocalApiServer(stack, port=0, static={"/shop/": site, "/shop/data/": data}).start()
        yield Served(server, root)
        server.stop()


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/shop/", "text/html; charset=utf-8", b"<h1>shop</h1>"),
        ("/shop/index.html", "text/html; charset=utf-8", b"<h1>shop</h1>"),
        ("/shop/app.js", "text/javascript; charset=utf-8", b"console.log(1);"),
        ("/shop/style.css", "text/css; charset=utf-8", b"body {}"),
        ("/shop/nested/", "text/html; charset=utf-8", b"nested"),
        ("/shop/shop.json?v=2", "application/json", b'{"from": "site"}'),
        ("/shop/data/shop.json", "application/json", b'{"from": "data"}'),
    ],
)
def test_files_are_served_with_their_content_type(
    served: Served, path: str, content_type: str, body: bytes
) -> None:
    # When a browser asks for a mounted file (the longest prefix deciding the directory)
    response = served.request("GET", path)
    # Then it gets the file with its content type
    assert response.status == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.body == body


@pytest.mark.parametrize(
    "path",
    [
        "/shop/../secret.txt",
        "/shop/%2e%2e/secret.txt",
        "/shop/..%2fsecret.txt",
        "/shop/nested/../../secret.txt",
        "/shop/data/../../secret.txt",
        "/shop/..\\secret.txt",
        "/shop/escape.txt",
        "/shop//etc/passwd",
        "/shop/missing.html",
    ],
)
def test_nothing_outside_the_mounted_directory_is_served(served: Served, path: str) -> None:
    # When a path tries to leave the directory (dot segments, encoded, a symlink) or names no file
    response = served.request("GET", path)
    # Then it is a 404 that reveals nothing
    assert response.status == 404
    assert b"secret" not in response.body
    assert b"root:" not in response.body


def test_the_prefix_without_its_slash_redirects_so_relative_links_work(served: Served) -> None:
    response = served.request("GET", "/shop")
    assert response.status == 301
    assert response.headers["location"] == "/shop/"


def test_only_get_and_head_are_allowed(served: Served) -> None:
    # When a file is posted to / Then 405 naming the allowed methods
    posted = served.request("POST", "/shop/index.html", body=b"{}")
    assert posted.status == 405
    assert posted.headers["allow"] == "GET, HEAD"
    # When HEAD asks / Then the headers of the GET without its body
    head = served.request("HEAD", "/shop/app.js")
    assert head.status == 200
    assert head.headers["content-length"] == str(len(b"console.log(1);"))
    assert head.body == b""


def test_the_api_routes_still_answer_beside_the_mounts(served: Served) -> None:
    # When the API is called on the same server / Then its function answers (400: no body)
    assert served.request("POST", "/api/events", body=b"").status in (400, 415)
    assert served.request("GET", "/api/nothing").status == 404


@pytest.mark.parametrize("prefix", ["shop/", "/shop", "/api/static/"])
def test_a_prefix_must_be_a_directory_path_outside_the_api(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="static prefix"):
        StaticFiles({prefix: tmp_path})
