"""The ``recs`` command: help with examples everywhere, delegation, and errors that say what to do."""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from recs_tools.cli import COMMANDS, main
from recs_tools.cli.bench import command as bench_command
from recs_tools.cli.errors import MISSING, USAGE
from recs_tools.synthetic import build_config, generate_shop, write_jsonl


@pytest.mark.parametrize("name", [c.name for c in COMMANDS])
def test_every_command_has_help_with_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # When a command's help is asked for
    with pytest.raises(SystemExit) as exit_:
        main([name, "--help"])
    # Then it exits 0 and shows examples of the command itself
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert f"recs {name}" in out


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("local", "demo", "train", "tune", "report", "bench", "smoke", "rollback"):
        assert f"    {name} " in out


def test_a_deploy_command_is_delegated_to_its_module(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a recs_tools.deploy.smoke module with its own options
    seen: list[argparse.Namespace] = []
    module = types.ModuleType("recs_tools.deploy.smoke", "Smoke test a stack.")

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--stack", required=True)

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return 1

    module.configure = configure  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "recs_tools.deploy.smoke", module)
    # When `recs smoke --stack recs-prod` runs
    status = main(["smoke", "--stack", "recs-prod"])
    # Then the module parsed its options and its status is the command's
    assert status == 1
    assert seen[0].stack == "recs-prod"


def test_a_missing_deploy_module_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an installation without recs_tools.deploy.rollback
    monkeypatch.setitem(sys.modules, "recs_tools.deploy.rollback", None)
    # When `recs rollback` runs, then it exits 3 naming the missing module
    assert main(["rollback"]) == MISSING
    assert "recs_tools.deploy.rollback is missing" in capsys.readouterr().err


def test_report_errors_say_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no data source, an empty output folder, and a bad confidence
    # Then each exits with its status and a message saying what to run or pass
    assert main(["report"]) == USAGE
    assert "--stack NAME" in capsys.readouterr().err
    assert main(["report", "--offline", str(tmp_path)]) == MISSING
    assert "run `recs train" in capsys.readouterr().err
    assert main(["report", "--offline", str(tmp_path), "--confidence", "1.5"]) == USAGE
    assert main(["report", "--model-table", "t"]) == USAGE
    assert "go together" in capsys.readouterr().err


def test_local_with_a_missing_reports_folder_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local", "--reports", str(tmp_path / "none")]) == MISSING
    assert "recs report --out" in capsys.readouterr().err


def test_bench_runs_what_the_makefile_targets_run() -> None:
    # Given the quick and the full modes
    quick = bench_command(argparse.Namespace(full=False, quick=True, only=["serving"]))
    full = bench_command(argparse.Namespace(full=True, quick=False, only=None))
    # Then they are `make bench-quick`'s and `make bench`'s command lines
    assert quick[1:] == [
        "-m",
        "bench",
        "--quick",
        "--results",
        "build/bench-quick",
        "--doc",
        "build/bench-quick/benchmarks.md",
        "--only",
        "serving",
    ]
    assert full[1:] == ["-m", "bench", "--full", "--patience", "3"]


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shop") / "events.jsonl"
    write_jsonl(generate_shop(build_config("test", seed=3)).events, path)
    return path


def test_train_then_report_on_the_offline_outputs(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an offline training run
    assert main(["train", "--events", str(events_file), "--out", str(tmp_path / "out")]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    # When its report is written
    status = main(
        [
            "report",
            "--offline",
            str(tmp_path / "out"),
            "--events",
            str(events_file),
            "--out",
            str(tmp_path / "r"),
        ]
    )
    # Then the version's page exists, shows its NDCG and the popularity bias, and the index links it
    assert status == 0
    page = (tmp_path / "r" / f"model-{summary['modelVersion']}.html").read_text()
    assert f"{summary['ndcg']:.4f}" in page
    assert "slots on the top 10% products" in page
    assert f"model-{summary['modelVersion']}.html" in (tmp_path / "r" / "index.html").read_text()


def test_tune_reports_every_trial(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When tuned with 3 fits
    assert main(["tune", "--events", str(events_file), "--trials", "3"]) == 0
    captured = capsys.readouterr()
    # Then the result is JSON on stdout and each fit has a line on stderr
    assert "validationNdcg" in json.loads(captured.out.splitlines()[0])
    assert captured.err.count("fit ") >= 3


@pytest.mark.parametrize("argv", [["demo", "--preset", "nosuch"], ["demo", "--port", "eighty"]])
def test_bad_demo_arguments_are_a_usage_error_naming_the_choices(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an unknown preset or a port that is not a number / When `recs demo` parses them
    with pytest.raises(SystemExit) as exited:
        main(argv)
    # Then it is a usage error (exit 2) saying what is allowed, never a traceback
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid" in error
    if "--preset" in argv:
        assert "demo" in error
        assert "grocery-year" in error


def test_the_local_module_refuses_an_unknown_preset_too(capsys: pytest.CaptureFixture[str]) -> None:
    from recs_tools.local.__main__ import main as local_main

    with pytest.raises(SystemExit) as exited:
        local_main(["demo", "--preset", "nosuch"])
    assert exited.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err
