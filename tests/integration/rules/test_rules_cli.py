"""``recs rules`` against the local API: signed requests, a table of the rules, the audit."""

from __future__ import annotations

import json

import pytest

from recs_tools.cli import main
from recs_tools.cli.errors import FAILED
from recs_tools.local.http import LocalApiServer


def recs(api: LocalApiServer, *arguments: str) -> int:
    return main(["rules", "--local", "--url", api.url, *arguments])


def test_add_list_remove_and_the_audit(api: LocalApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    # Given the local API / When a pin is added, listed, removed, and the audit read
    added = recs(
        api,
        "add",
        "spring-pin",
        "--kind",
        "pin",
        "--product",
        "sku_1",
        "--position",
        "1",
        "--context",
        "homepage",
        "--for",
        "7d",
        "--note",
        "spring",
    )
    listed = recs(api, "list")
    table = capsys.readouterr().out
    as_json = main(["rules", "--local", "--url", api.url, "--json", "list"])
    rules = json.loads(capsys.readouterr().out)["rules"]
    removed = recs(api, "remove", "spring-pin")
    audited = recs(api, "changes")
    audit = capsys.readouterr().out
    # Then each succeeds, the table shows the active rule, the audit names the local operator
    assert (added, listed, as_json, removed, audited) == (0, 0, 0, 0, 0)
    assert "spring-pin" in table
    assert "active" in table
    assert [(r["id"], r["kind"], r["productId"], r["position"]) for r in rules] == [
        ("spring-pin", "pin", "sku_1", 1)
    ]
    assert "delete spring-pin" in " ".join(audit.split())
    assert "arn:aws:iam::123456789012:user/local-admin" in audit


def test_removing_an_unknown_rule_says_so(api: LocalApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no rule / When one is removed / Then exit 2 with the 404
    assert recs(api, "remove", "nothing") == 2
    assert "404" in capsys.readouterr().err


def test_an_unreachable_api_fails_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no API listening / Then exit 1 naming the URL, no traceback
    assert main(["rules", "--local", "--url", "http://127.0.0.1:9", "list"]) == FAILED
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err
    assert "Traceback" not in err
