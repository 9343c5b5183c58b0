"""The state machine definition against the typed step documents (`recs.training.workflow`):
every step it sends exists, every document a state hands on is the one the next step takes,
and every field a state reads is a field of the document it reads it from."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from recs.training.workflow import (
    STEP_DOCUMENTS,
    AlertedJob,
    EvaluatedJob,
    LeaseGrant,
    PublishedJob,
)
from recs_tools.checkout import repo_root

DEFINITION: dict[str, Any] = json.loads(
    (repo_root() / "infra/statemachines/training.asl.json").read_text(encoding="utf-8")
)
STATES: dict[str, Any] = DEFINITION["States"]
TRAIN_FUNCTION = "${TrainFunctionArn}"


def _train_tasks() -> dict[str, str]:
    """State name -> the step it asks the train function for."""
    tasks = {}
    for name, state in STATES.items():
        parameters = state.get("Parameters") or {}
        if state["Type"] == "Task" and parameters.get("FunctionName") == TRAIN_FUNCTION:
            tasks[name] = parameters["Payload"]["step"]
    publish = STATES["Publish"]
    tasks["Publish"] = publish["ItemSelector"]["step"]
    return tasks


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def _required(model: type[BaseModel]) -> set[str]:
    return {name for name, field in model.model_fields.items() if field.is_required()}


def _variables(rules: list[dict[str, Any]]) -> list[str]:
    """Every `Variable` a Choice reads, through And / Or / Not."""
    found: list[str] = []
    for rule in rules:
        if "Variable" in rule:
            found.append(rule["Variable"])
        for nested in ("And", "Or"):
            found += _variables(rule.get(nested, []))
        if "Not" in rule:
            found += _variables([rule["Not"]])
    return found


def _first_field(path: str) -> str:
    """`$.gate.passed` -> `gate`."""
    return path.removeprefix("$.").split(".")[0]


def test_every_step_the_state_machine_sends_has_typed_documents() -> None:
    # Given the train function's states / Then each names a step with an input and output model
    sent = set(_train_tasks().values())
    assert sent == set(STEP_DOCUMENTS)


@pytest.mark.parametrize(
    ("state", "previous"),
    [
        ("Train", "Prepare"),
        ("Evaluate", "Train"),
        ("Cleanup", "Flip"),
        ("PublishLists", "Evaluate"),
        ("RecordRefusal", "PublishLists"),
    ],
)
def test_a_state_passing_the_whole_document_hands_on_what_the_next_takes(state: str, previous: str) -> None:
    # Given a state whose job is the previous step's output (`job.$: $`, OutputPath $.Payload)
    assert STATES[state]["Parameters"]["Payload"]["job.$"] == "$"
    assert STATES[previous]["OutputPath"] == "$.Payload"
    _, produced = STEP_DOCUMENTS[_train_tasks()[previous]]
    takes, _ = STEP_DOCUMENTS[_train_tasks()[state]]
    # Then every field the step requires is produced, and nothing produced is unknown to it
    assert _required(takes) <= _fields(produced)
    assert _fields(produced) <= _fields(takes)


def test_the_gate_and_the_publish_map_read_fields_of_the_evaluated_document() -> None:
    # Given the Choice after Evaluate and the Distributed Map's reader
    gate = STATES["Gate"]
    reader = STATES["Publish"]["ItemReader"]["Parameters"]["Key.$"]
    # Then they read fields the evaluate step's output has
    _, evaluated = STEP_DOCUMENTS["evaluate"]
    assert evaluated is EvaluatedJob
    assert {_first_field(variable) for variable in _variables(gate["Choices"])} <= _fields(evaluated)
    assert _first_field(reader) in _fields(evaluated)
    assert STATES["Evaluate"]["Next"] == "Gate"


def test_the_map_hands_each_shard_the_evaluated_document_and_flip_gets_the_maps_result() -> None:
    # Given the Distributed Map over the publish manifest
    publish = STATES["Publish"]
    # Then each item carries the whole (evaluated) document and its manifest entry
    assert publish["ItemSelector"] == {"step": "publish_shard", "job.$": "$", "shard.$": "$$.Map.Item.Value"}
    assert STEP_DOCUMENTS["publish_shard"][0] is EvaluatedJob
    # And Flip takes the evaluated document plus the Map's result under its ResultPath
    assert publish["Next"] == "Flip"
    assert _first_field(publish["ResultPath"]) in _fields(PublishedJob)
    assert STEP_DOCUMENTS["flip"][0] is PublishedJob
    assert STATES["Flip"]["Parameters"]["Payload"]["job.$"] == "$"


def test_the_lease_and_prepare_receive_what_their_states_build() -> None:
    # Given TakeLease's result selector and Prepare's job parameters
    selector = {key.removesuffix(".$") for key in STATES["TakeLease"]["ResultSelector"]}
    prepare_job = {key.removesuffix(".$") for key in STATES["Prepare"]["Parameters"]["Payload"]["job"]}
    lease_job = {key.removesuffix(".$") for key in STATES["TakeLease"]["Parameters"]["Payload"]["job"]}
    # Then the lease grant is exactly what TakeLease keeps, and the requests know every key
    assert selector == _fields(LeaseGrant)
    assert prepare_job <= _fields(STEP_DOCUMENTS["prepare"][0])
    assert lease_job <= _fields(STEP_DOCUMENTS["take_lease"][0])


def test_the_alerts_read_the_alert_of_the_recorded_documents() -> None:
    # Given the SNS notifications after the refusal and failure records
    assert _first_field(STATES["NotifyRefusal"]["Parameters"]["Message.$"]) in _fields(AlertedJob)
    for step in ("record_refusal", "record_failure"):
        assert STEP_DOCUMENTS[step][1] is AlertedJob
    # And every Catch that leads to RecordFailure puts the error where FailedJob reads it
    failed_takes, _ = STEP_DOCUMENTS["record_failure"]
    for state in STATES.values():
        for catch in state.get("Catch", []):
            if catch["Next"] == "RecordFailure":
                assert _first_field(catch["ResultPath"]) in _fields(failed_takes)


def test_a_refusal_publishes_the_shop_wide_lists_and_is_recorded_even_if_that_fails() -> None:
    # Given the gate's default branch
    lists = STATES[STATES["Gate"]["Default"]]
    # Then it publishes the lists, then records the refusal, and a failure to publish still
    # reaches RecordRefusal with the error where the refusal document reads it
    assert lists["Parameters"]["Payload"]["step"] == "publish_lists"
    assert lists["Next"] == "RecordRefusal"
    (catch,) = lists["Catch"]
    assert catch["Next"] == "RecordRefusal"
    assert _first_field(catch["ResultPath"]) in _fields(STEP_DOCUMENTS["record_refusal"][0])


def test_every_task_has_a_catch_and_the_run_stops_before_its_lease_expires() -> None:
    # Given the state machine and the training lease's lifetime
    from recs.config.train import TrainSettings

    lease = TrainSettings.model_fields["training_lease_seconds"].default
    # Then the whole run is bounded below the lease (two runs never overlap)
    assert 0 < DEFINITION["TimeoutSeconds"] < lease
    # And no Task can fail the execution without a path that records or notifies it
    uncaught = [name for name, state in STATES.items() if state["Type"] == "Task" and not state.get("Catch")]
    assert uncaught == []


def test_the_gate_publishes_only_a_present_boolean_true_decision() -> None:
    # Given the Choice after Evaluate
    (rule,) = STATES["Gate"]["Choices"]
    checks = rule["And"]
    # Then it publishes only when gate.passed is present, a boolean and true; otherwise (refused
    # or malformed) the run goes the refusal way
    assert {"IsPresent": True, "Variable": "$.gate.passed"} in checks
    assert {"IsBoolean": True, "Variable": "$.gate.passed"} in checks
    assert {"BooleanEquals": True, "Variable": "$.gate.passed"} in checks
    assert rule["Next"] == "Publish"
    assert STATES["Gate"]["Default"] == "PublishLists"
