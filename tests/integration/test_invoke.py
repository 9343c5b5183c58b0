"""`make invoke` without Docker: one sample event through the local stack's copy of the function
(`recs_tools.local.invoke`), as `sam local invoke --event` would hand it to the container."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recs_tools.local.invoke import main, resolve_function
from tests.helpers import EVENTS_DIR


def _printed_response(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out
    # The function's own log lines come first; the result is the last JSON document printed.
    response: dict[str, object] = json.loads(out[out.rindex("\n{\n") + 1 :] if "\n{\n" in out else out)
    return response


def test_an_empty_stack_answers_the_sample_request_with_its_503(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the sample homepage request and a stack no run has trained
    # When it is invoked by its short name
    code = main(["recommend", str(EVENTS_DIR / "recommend_homepage.json")])

    # Then the handler's own answer is printed: no model yet, retry later
    response = _printed_response(capsys)
    assert code == 0
    assert response["statusCode"] == 503


def test_with_a_shop_posted_and_trained_first_the_same_request_gets_a_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the tiny synthetic shop posted through ingest and one training run
    # When the sample homepage request is invoked by its logical id
    code = main(["RecommendFunction", str(EVENTS_DIR / "recommend_homepage.json"), "--preset", "test"])

    # Then the recommend function answers 200 with a full list
    response = _printed_response(capsys)
    assert code == 0
    assert response["statusCode"] == 200
    assert len(json.loads(str(response["body"]))["products"]) == 10


def test_own_events_file_is_posted_before_the_invocation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a JSON-lines file holding one sample view event
    view = json.loads(json.loads((EVENTS_DIR / "ingest_view.json").read_text())["body"])
    # Ingest accepts events inside the retention window, which is relative to today
    view["timestamp"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(view) + "\n\n")

    # When the privacy status request is invoked after posting it
    code = main(["privacy", str(EVENTS_DIR / "privacy_status.json"), "--events", str(events)])

    # Then the posting is reported and the function answers
    captured = capsys.readouterr()
    assert code == 0
    assert "posted 1 events (1 accepted)" in captured.err
    assert '"statusCode": 200' in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nosuch", str(EVENTS_DIR / "recommend_homepage.json")], "unknown function 'nosuch'; choose one of"),
        (["recommend", "events/missing.json"], "event file events/missing.json does not exist"),
        (["recommend", str(EVENTS_DIR / "recommend_homepage.json"), "--preset", "x"], "unknown preset 'x'"),
    ],
)
def test_bad_arguments_are_a_usage_error_naming_the_problem(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a wrong function, event file or preset / When invoked
    with pytest.raises(SystemExit) as exited:
        main(argv)

    # Then it exits 2 with a usage message, never a traceback
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_short_and_logical_names_resolve_to_the_templates_function() -> None:
    known = ["IngestFunction", "RecommendFunction"]
    assert resolve_function("recommend", known) == "RecommendFunction"
    assert resolve_function("IngestFunction", known) == "IngestFunction"
    assert resolve_function("ingestfunction", known) == "IngestFunction"
