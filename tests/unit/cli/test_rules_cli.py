"""``recs rules``: a bad rule or command line is a usage error (exit 2) naming the option, checked
before anything is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recs_tools.cli import main
from recs_tools.cli.errors import USAGE
from recs_tools.cli.rules import duration


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["add", "x", "--kind", "pin", "--product", "p1", "--for", "1d"], "--position"),
        (["add", "x", "--kind", "pin", "--category", "c", "--position", "1", "--for", "1d"], "--product"),
        (["add", "x", "--kind", "boost", "--brand", "b", "--factor", "0.5", "--for", "1d"], "--factor"),
        (["add", "x", "--kind", "block", "--product", "p1", "--position", "2", "--for", "1d"], "--position"),
        (
            [
                "add",
                "x",
                "--kind",
                "block",
                "--product",
                "p1",
                "--starts",
                "2026-03-02T00:00:00Z",
                "--ends",
                "2026-03-01T00:00:00Z",
            ],
            "--ends/--for",
        ),
        (["add", "bad.id", "--kind", "block", "--product", "p1", "--for", "1d"], "RULE_ID"),
        (["changes", "--limit", "0"], "--limit"),
    ],
)
def test_a_bad_rule_is_a_usage_error_naming_the_option(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a rule the API would refuse / When it is added through the CLI
    status = main(["rules", "--local", "--url", "http://127.0.0.1:9", *arguments])
    # Then it exits 2 naming the option, without a traceback (and without calling the API)
    err = capsys.readouterr().err
    assert status == USAGE
    assert f"recs: {named}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "arguments",
    [
        ["add", "x", "--kind", "block", "--product", "p1", "--for", "1w"],
        ["add", "x", "--kind", "block", "--product", "p1", "--ends", "2026-03-01T00:00:00"],
        ["add", "x", "--kind", "feature", "--product", "p1", "--for", "1d"],
        ["add", "x", "--kind", "block", "--product", "p1"],
        ["frobnicate"],
    ],
)
def test_a_bad_command_line_exits_2(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    # Given a command line argparse refuses / Then exit 2, no traceback
    with pytest.raises(SystemExit) as exit_:
        main(["rules", "--local", *arguments])
    assert exit_.value.code == USAGE
    assert "Traceback" not in capsys.readouterr().err


def test_no_api_named_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Given no --stack, --url or --local / Then a usage error naming them
    assert main(["rules", "list"]) == USAGE
    assert "--stack" in capsys.readouterr().err


def test_durations() -> None:
    # Given durations in days, hours and minutes / Then their timedeltas
    assert duration("7d") == timedelta(days=7)
    assert duration("12h") == timedelta(hours=12)
    assert duration("30m") == timedelta(minutes=30)
