"""API fuzzing: schemathesis generates requests from docs/openapi.json (valid ones and,
with negative generation, invalid ones) and sends them to the local API over HTTP.

Each response must: not be a 5xx; have a status code, content type, headers and body the spec
documents for the operation; and, for a 4xx, carry a ``message`` that says what is wrong (and for
a 400, ``errors`` naming at least one field). Requests to the admin routes are SigV4-signed with
the local stack's operator's keys, as `recs rules` signs them, so they reach the admin function
and not only the gateway's 403 (unsigned, they would test nothing of it). Hypothesis is
derandomized and its database off;
the requests still differ a little from run to run (the stack's own state, e.g. model version
names and erasure receipts, changes the answers schemathesis builds on), so the counts by status
vary slightly while the checks hold.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from recs_tools.local.auth import local_admin_credentials
from recs_tools.local.stack import REGION
from recs_tools.rules_client import sign_request

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: What API Gateway itself answers before any function runs (request line and headers over
#: 10240 bytes, body over 10 MB): not part of the functions' spec, so only the body is checked.
GATEWAY_STATUSES = frozenset({413, 414})


#: The routes IAM authorization protects (template.yaml, AdminIam).
ADMIN_PREFIX = "/api/admin/"


class SignedAdminRequests(requests.auth.AuthBase):
    """SigV4 signatures on the admin routes' requests (the local operator's keys)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = str(request.url)
        if not urlsplit(url).path.startswith(ADMIN_PREFIX):
            return request
        body = request.body or b""
        # schemathesis hands requests bodies already encoded (bytes) or as text, never a stream.
        data = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
        kept = {
            k: v if isinstance(v, str) else v.decode()
            for k, v in request.headers.items()
            if k.lower() == "content-type"
        }
        signed = sign_request(
            str(request.method),
            url,
            body=data,
            headers=kept,
            region=REGION,
            credentials=local_admin_credentials(),
        )
        request.headers.update(signed)
        return request


@dataclass
class FuzzReport:
    examples_per_operation: int
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: The first request and answer of each failure, to reproduce it.
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def as_dict(self) -> dict[str, Any]:
        return {
            "examplesPerOperation": self.examples_per_operation,
            "requests": self.requests,
            "serverErrors": self.server_errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "byOperation": {
                op: {str(k): v for k, v in sorted(c.items())} for op, c in sorted(self.by_operation.items())
            },
            "failures": self.failures,
            "skipped": self.skipped,
            "failureExamples": self.examples,
        }


def problem_named(status_code: int, content: bytes) -> str | None:
    """Why a 4xx body does not say what the problem is (None when it does)."""
    if not 400 <= status_code < 500:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return "4xx body is not JSON"
    if not isinstance(body, dict) or not str(body.get("message") or "").strip():
        return "4xx body has no message"
    if status_code == 400:
        errors = body.get("errors")
        if not errors or not all(str(e.get("field") or "").strip() for e in errors):
            return "400 body does not name the bad field"
    return None


def fuzz(base_url: str, *, max_examples: int, modes: tuple[GenerationMode, ...] | None = None) -> FuzzReport:
    """Send up to `max_examples` generated requests per operation (and generation mode)."""
    schema = schemathesis.openapi.from_path(str(SPEC))
    report = FuzzReport(examples_per_operation=max_examples)
    session = requests.Session()
    session.auth = SignedAdminRequests()
    for mode in modes or (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                raise result.err()  # the committed spec itself is broken
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            _fuzz_operation(operation, label, mode, base_url, session, max_examples, report)
    _undeclared_methods(schema.raw_schema, base_url, session, report)
    return report


#: Methods a client or a scanner may send that no route declares (API Gateway answers them 404
#: or 405; a server that answers 501 counts as a server error).
UNDECLARED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "FOO")
UNDECLARED = "undeclared methods"


def _undeclared_methods(
    spec: dict[str, Any], base_url: str, session: requests.Session, report: FuzzReport
) -> None:
    """Every path of the spec with every method it does not declare: a documented 4xx, never 5xx."""
    counts = report.by_operation.setdefault(UNDECLARED, Counter())
    for path, item in spec.get("paths", {}).items():
        declared = {method.upper() for method in item if method.upper() in UNDECLARED_METHODS}
        # HEAD is served wherever GET is, as API Gateway does.
        declared |= {"HEAD"} if "GET" in declared else set()
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        for method in UNDECLARED_METHODS:
            if method in declared:
                continue
            response = session.request(method, base_url + concrete, timeout=30)
            report.requests += 1
            report.statuses[response.status_code] += 1
            counts[response.status_code] += 1
            problem = "server error" if response.status_code >= 500 else None
            if response.status_code not in (404, 405):
                problem = problem or f"answered {response.status_code}, not 404 or 405"
            if method != "HEAD":
                problem = problem or problem_named(response.status_code, response.content)
            if problem:
                entry = f"{method} {path} [{UNDECLARED}] {response.status_code}: {problem}"
                if entry not in report.failures:
                    report.failures.append(entry)
                    report.examples[entry] = f"{method} {concrete} -> {response.content[:300]!r}"


def _fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any],
    label: str,
    mode: GenerationMode,
    base_url: str,
    session: requests.Session,
    max_examples: int,
    report: FuzzReport,
) -> None:
    counts = report.by_operation.setdefault(label, Counter())

    @hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case[APIOperation[Any, Any, Any, Any]]) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        report.requests += 1
        report.statuses[response.status_code] += 1
        counts[response.status_code] += 1
        problems: list[str] = []
        try:
            if response.status_code in GATEWAY_STATUSES:
                case.validate_response(response, checks=[not_a_server_error])
            else:
                case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as failure:  # a FailureGroup of every failed check
            for line in str(failure).splitlines():
                if line.startswith("- "):
                    problems.append(line.removeprefix("- "))
            if not problems:
                problems.append(type(failure).__name__)
        named = problem_named(response.status_code, response.content)
        if named:
            problems.append(named)
        for problem in problems:
            # Keep going: one report of every distinct failure, not only the first.
            entry = f"{label} [{mode.value}] {response.status_code}: {problem}"
            if entry not in report.failures:
                report.failures.append(entry)
                report.examples[entry] = (
                    f"{case.as_curl_command()} -> {response.status_code} {response.content[:300]!r}"
                )

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        # Nothing to generate in this mode (e.g. no invalid value of an unconstrained body).
        report.skipped.append(f"{label} [{mode.value}]")
