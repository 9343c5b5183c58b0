"""The admin routes' client: SigV4-signed JSON requests (IAM authorization), as any AWS SDK signs
them, to a deployed stack's API or the local one (`recs rules`, the demo, the e2e tests; the local
stack's operator's keys are `recs_tools.local.auth.local_admin_credentials`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

RULES_PATH = "/api/admin/rules"
CHANGES_PATH = "/api/admin/rule-changes"


def sign_request(
    method: str, url: str, *, body: bytes, headers: dict[str, str], region: str, credentials: Any
) -> dict[str, str]:
    """`headers` and the SigV4 headers of `method url` for API Gateway (service ``execute-api``)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


@dataclass
class HttpResult:
    """An admin route's answer: its status, its JSON body (or text), its headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RulesClient:
    """GET/PUT/DELETE of the admin routes under `base_url`, signed with `credentials`."""

    base_url: str
    region: str
    credentials: Any
    timeout: float = 30.0

    def call(self, method: str, path: str, body: Any = None, query: str = "") -> HttpResult:
        data = json.dumps(body).encode() if body is not None else b""
        url = self.base_url.rstrip("/") + path + (f"?{query}" if query else "")
        headers = sign_request(
            method,
            url,
            body=data,
            headers={"content-type": "application/json"} if body is not None else {},
            region=self.region,
            credentials=self.credentials,
        )
        request = urllib.request.Request(url, data=data or None, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return HttpResult(response.status, json.loads(raw) if raw else None, dict(response.headers))
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                parsed = raw.decode(errors="replace")
            return HttpResult(error.code, parsed, dict(error.headers.items()))

    def list(self) -> HttpResult:
        return self.call("GET", RULES_PATH)

    def put(self, rule_id: str, body: dict[str, Any]) -> HttpResult:
        return self.call("PUT", f"{RULES_PATH}/{quote(rule_id, safe='')}", body)

    def remove(self, rule_id: str) -> HttpResult:
        return self.call("DELETE", f"{RULES_PATH}/{quote(rule_id, safe='')}")

    def changes(self, limit: int) -> HttpResult:
        return self.call("GET", CHANGES_PATH, query=f"limit={limit}")
