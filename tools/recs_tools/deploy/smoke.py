"""Smoke test of a deployed stack over HTTP: every route of the API, each answer checked against
the contract (docs/openapi.json: status code, then the body against the route's schema).

    python -m recs_tools.deploy.smoke https://abc123.execute-api.eu-west-1.amazonaws.com
    make smoke URL=https://...                       # the same
    python -m recs_tools.deploy.smoke URL --token JWT      # a stack with caller authorization (AuthIssuerUrl)

Run it after the first training run: before it, recommendations answer 503 (no model), and the
smoke test says so. It writes as a synthetic shopper (``--user-id``, default ``smoke-test-user``,
and an ``anonId`` of its own): one view event, an opt-in, a data export, and an erasure of that
shopper (which removes what the smoke test wrote, its export included); then, as an anonymous
visitor with a signed id of its own, an opt-out, a data export and an erasure of that id (its
export included). With ``--read-only`` it only reads (issuing a signed anonymous id stores
nothing). One line per check; the exit status is 1 when any check failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jsonschema import Draft202012Validator

from recs.visitor_ids import VISITOR_HEADER
from recs_tools.checkout import repo_root

DEFAULT_USER = "smoke-test-user"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    elapsed_ms: float


@dataclass(frozen=True)
class Outcome:
    name: str
    method: str
    path: str
    passed: bool
    status: int | None
    detail: str

    def line(self) -> str:
        status = "---" if self.status is None else str(self.status)
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict}  {self.method:<4} {self.path:<34} {status}  {self.name}: {self.detail}"


Transport = Callable[[str, str, Any, dict[str, str]], Reply]


def http_transport(timeout_seconds: float) -> Transport:
    """A JSON-over-HTTP client on the standard library (no dependency on the operator's machine)."""

    def call(method: str, url: str, body: Any, headers: dict[str, str]) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"content-type": "application/json", **headers}
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        elapsed = (time.perf_counter() - started) * 1000
        try:
            parsed = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            parsed = raw.decode(errors="replace")
        return Reply(status, parsed, elapsed)

    return call


@dataclass
class Contract:
    """docs/openapi.json: which statuses each route documents, and the schema of each answer."""

    spec: dict[str, Any]
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Contract:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def problems(self, method: str, route: str, reply: Reply, expected_status: int) -> list[str]:
        """What is wrong with `reply` to `method route`; empty when it honours the contract."""
        if reply.status != expected_status:
            return [f"status {reply.status}, expected {expected_status} ({_summary(reply.body)})"]
        responses = self.spec["paths"][route][method.lower()]["responses"]
        documented = responses.get(str(reply.status)) or responses.get("default")
        if documented is None:
            return [f"status {reply.status} is not documented for {method} {route}"]
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        return [_error_text(error) for error in self._validator(schema).iter_errors(reply.body)]

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            # The route's schema with the spec's components beside it, so "#/components/..." resolves.
            self._validators[key] = Draft202012Validator({**schema, "components": self.spec["components"]})
        return self._validators[key]


def _error_text(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "body"
    return f"{where}: {error.message}"


def _summary(body: Any) -> str:
    text = json.dumps(body) if not isinstance(body, str) else body
    return text if len(text) <= 120 else text[:117] + "..."


@dataclass
class SmokeRun:
    base_url: str
    contract: Contract
    transport: Transport
    user_id: str = DEFAULT_USER
    token: str | None = None
    read_only: bool = False
    anon_id: str = field(default_factory=lambda: f"smoke-{uuid.uuid4().hex[:12]}")
    outcomes: list[Outcome] = field(default_factory=list)

    def check(
        self,
        name: str,
        method: str,
        route: str,
        expected_status: int,
        *,
        path: str | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        extra: Callable[[Any], list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply | None:
        """Call the route, check the answer against the contract (and `extra`), record the outcome."""
        concrete = path or route
        url = self.base_url.rstrip("/") + concrete + (f"?{urlencode(query)}" if query else "")
        headers = {**({"authorization": f"Bearer {self.token}"} if self.token else {}), **(headers or {})}
        try:
            reply = self.transport(method, url, body, headers)
        except OSError as error:
            self.outcomes.append(Outcome(name, method, route, False, None, f"no answer: {error}"))
            return None
        problems = self.contract.problems(method, route, reply, expected_status)
        if not problems and extra is not None:
            problems = extra(reply.body)
        detail = "; ".join(problems[:3]) if problems else f"ok in {reply.elapsed_ms:.0f} ms"
        self.outcomes.append(Outcome(name, method, route, not problems, reply.status, detail))
        return reply if not problems else None

    def not_run(self, name: str, method: str, route: str, why: str) -> None:
        """A check that could not run because an earlier one failed: a failure too."""
        self.outcomes.append(Outcome(name, method, route, False, None, f"not run: {why}"))

    def run(self) -> list[Outcome]:
        limit = 5
        home = self.check(
            "anonymous homepage list",
            "GET",
            "/api/recommendations",
            200,
            query={"anonId": self.anon_id, "limit": str(limit), "context": "homepage"},
            extra=lambda body: _list_problems(body, limit, excluded=set()),
        )
        products = [p["id"] for p in home.body["products"]] if home else []
        if not products:
            self.not_run(
                "product page list for a shopper",
                "GET",
                "/api/recommendations",
                "no product to put on screen",
            )
        else:
            on_screen = products[0]
            self.check(
                "product page list for a shopper",
                "GET",
                "/api/recommendations",
                200,
                query={
                    "userId": self.user_id,
                    "limit": str(limit),
                    "context": "product-page",
                    "productId": on_screen,
                },
                extra=lambda body: _list_problems(body, limit, excluded={on_screen}),
            )
        self.check(
            "a bad limit is refused, naming the field",
            "GET",
            "/api/recommendations",
            400,
            query={"anonId": self.anon_id, "limit": "abc"},
            extra=lambda body: (
                []
                if "limit" in {e.get("field") for e in body.get("errors", [])}
                else ["no error names limit"]
            ),
        )
        user_path = f"/api/users/{quote(self.user_id, safe='')}"
        if not self.read_only:
            self.check(
                "one view event accepted",
                "POST",
                "/api/events",
                202,
                body=_view_event(self.anon_id, products[0] if products else "smoke-product"),
                extra=_events_problems,
            )
            self.check(
                "opt-in recorded",
                "PUT",
                "/api/users/{userId}/preferences",
                200,
                path=f"{user_path}/preferences",
                body={"preferences": {"recommendations": True}},
            )
        self.check("privacy status", "GET", "/api/users/{userId}/privacy", 200, path=f"{user_path}/privacy")
        self._anonymous_visitor()
        if not self.read_only:
            # Before the erasure below, which deletes the shopper's exports.
            export = self.check(
                "export requested", "POST", "/api/users/{userId}/export", 202, path=f"{user_path}/export"
            )
            if export is None:
                self.not_run("export receipt", "GET", "/api/exports/{receiptId}", "no receipt to read")
            else:
                export_id = str(export.body["receiptId"])
                self.check(
                    "export receipt",
                    "GET",
                    "/api/exports/{receiptId}",
                    200,
                    path=f"/api/exports/{quote(export_id, safe='')}",
                    extra=lambda body: (
                        []
                        if body["receiptId"] == export_id and body["status"] in ("pending", "ready")
                        else [f"receipt {body['receiptId']} is {body['status']}"]
                    ),
                )
            receipt = self.check(
                "erasure requested",
                "POST",
                "/api/users/{userId}/erasure",
                202,
                path=f"{user_path}/erasure",
                body={"anonIds": [self.anon_id]},
            )
            if receipt is None:
                self.not_run("erasure receipt", "GET", "/api/erasures/{receiptId}", "no receipt to read")
            else:
                receipt_id = str(receipt.body["receiptId"])
                self.check(
                    "erasure receipt",
                    "GET",
                    "/api/erasures/{receiptId}",
                    200,
                    path=f"/api/erasures/{quote(receipt_id, safe='')}",
                    extra=lambda body: (
                        [] if body["receiptId"] == receipt_id else ["another receipt answered"]
                    ),
                )
        return self.outcomes

    def _anonymous_visitor(self) -> None:
        """An anonymous visitor's rights: a signed id is issued (nothing is stored), an unsigned one
        is refused naming the header; without --read-only the holder opts out and erases it."""
        self.check(
            "an unsigned anonymous id is refused, naming the header",
            "GET",
            "/api/visitor/privacy",
            401,
            headers={VISITOR_HEADER: self.anon_id},
            extra=lambda body: (
                []
                if VISITOR_HEADER in {e.get("field") for e in body.get("errors", [])}
                else [f"no error names {VISITOR_HEADER}"]
            ),
        )
        issued = self.check("signed anonymous id issued", "POST", "/api/visitors", 201)
        if issued is None:
            for method, route in (
                ("GET", "/api/visitor/privacy"),
                *(() if self.read_only else _VISITOR_WRITES),
            ):
                self.not_run(f"anonymous {route}", method, route, "no signed anonymous id")
            return
        holder = {VISITOR_HEADER: str(issued.body["anonId"])}
        self.check("anonymous privacy status", "GET", "/api/visitor/privacy", 200, headers=holder)
        if self.read_only:
            return
        self.check(
            "anonymous opt-out recorded",
            "PUT",
            "/api/visitor/preferences",
            200,
            headers=holder,
            body={"preferences": {"recommendations": False}},
        )
        self._anonymous_export(holder)
        receipt = self.check(
            "anonymous erasure requested", "POST", "/api/visitor/erasure", 202, headers=holder
        )
        if receipt is None:
            self.not_run(
                "anonymous erasure receipt", "GET", "/api/visitor/erasures/{receiptId}", "no receipt to read"
            )
            return
        receipt_id = str(receipt.body["receiptId"])
        self.check(
            "anonymous erasure receipt",
            "GET",
            "/api/visitor/erasures/{receiptId}",
            200,
            path=f"/api/visitor/erasures/{quote(receipt_id, safe='')}",
            headers=holder,
            extra=lambda body: [] if body["receiptId"] == receipt_id else ["another receipt answered"],
        )

    def _anonymous_export(self, holder: dict[str, str]) -> None:
        """The holder's export and its receipt (before the erasure, which deletes it)."""
        export = self.check("anonymous export requested", "POST", "/api/visitor/export", 202, headers=holder)
        if export is None:
            self.not_run(
                "anonymous export receipt", "GET", "/api/visitor/exports/{receiptId}", "no receipt to read"
            )
            return
        export_id = str(export.body["receiptId"])
        self.check(
            "anonymous export receipt",
            "GET",
            "/api/visitor/exports/{receiptId}",
            200,
            path=f"/api/visitor/exports/{quote(export_id, safe='')}",
            headers=holder,
            extra=lambda body: (
                []
                if body["receiptId"] == export_id and body["status"] in ("pending", "ready")
                else [f"receipt {body['receiptId']} is {body['status']}"]
            ),
        )


#: The anonymous visitor's routes that change something (and the receipts they return).
_VISITOR_WRITES = (
    ("PUT", "/api/visitor/preferences"),
    ("POST", "/api/visitor/export"),
    ("GET", "/api/visitor/exports/{receiptId}"),
    ("POST", "/api/visitor/erasure"),
    ("GET", "/api/visitor/erasures/{receiptId}"),
)


def _list_problems(body: dict[str, Any], limit: int, excluded: set[str]) -> list[str]:
    """The recommendations contract beyond the schema (docs/architecture.md, HTTP API)."""
    ids = [p["id"] for p in body["products"]]
    problems = []
    if not ids or len(ids) > limit:
        problems.append(f"{len(ids)} products for limit {limit}")
    if len(set(ids)) != len(ids):
        problems.append("duplicate products")
    if excluded & set(ids):
        problems.append(f"the product on screen is recommended: {sorted(excluded & set(ids))}")
    if not str(body["generatedAt"]).endswith("Z"):
        problems.append(f"generatedAt {body['generatedAt']!r} is not UTC")
    return problems


def _events_problems(body: Any) -> list[str]:
    """POST /api/events documents no response schema: its fields are docs/event-schemas.md's."""
    if not isinstance(body, dict) or not {"accepted", "rejectedCount", "rejected"} <= set(body):
        return [f"expected accepted, rejectedCount and rejected in {_summary(body)}"]
    if body["accepted"] != 1:
        return [f"accepted {body['accepted']} of 1 ({_summary(body['rejected'])})"]
    return []


def _view_event(anon_id: str, product_id: str) -> dict[str, Any]:
    return {
        "eventId": str(uuid.uuid4()),
        "eventType": "view",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "anonId": anon_id,
        "sessionId": anon_id,
        "productId": product_id,
        "context": "product-page",
    }


def _default_spec() -> Path:
    try:
        return repo_root() / "docs" / "openapi.json"
    except FileNotFoundError:  # an installed package: the spec of the working directory
        return Path("docs/openapi.json")


# ---------------------------------------------------------------------------- command line
def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url", help="the stack's ApiUrl output, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com"
    )
    parser.add_argument("--spec", type=Path, default=None, help="the contract (default: docs/openapi.json)")
    parser.add_argument("--user-id", default=DEFAULT_USER, help="the synthetic shopper the checks act as")
    parser.add_argument(
        "--token", default=None, help="that shopper's bearer token, when AuthIssuerUrl is set"
    )
    parser.add_argument("--read-only", action="store_true", help="skip the routes that write")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")


def run(args: argparse.Namespace) -> int:
    smoke = SmokeRun(
        base_url=args.url,
        contract=Contract.load(args.spec or _default_spec()),
        transport=http_transport(args.timeout),
        user_id=args.user_id,
        token=args.token,
        read_only=args.read_only,
    )
    outcomes = smoke.run()
    for outcome in outcomes:
        print(outcome.line())
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} checks passed against {args.url}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.deploy.smoke", description=__doc__.split("\n\n")[0]
    )
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
