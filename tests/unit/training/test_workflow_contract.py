"""The state machine definition against the typed step documents (`recs.training.workflow`):
every step it sends exists, every document a state hands on is the one the next step takes,
and every field a state reads is a field of the document it reads it from."""

from __future__ import annotations

import ast
import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from recs.training.workflow import (
    STEP_DOCUMENTS,
    AlertedJob,
    EvaluatedJob,
    LeaseGrant,
    PreparedJob,
    PreparePlan,
    PrepareRequest,
    PublishedJob,
)
from recs.wiring.train_container import JOB_VARIABLE
from recs_tools.checkout import repo_root

DEFINITION: dict[str, Any] = json.loads(
    (repo_root() / "infra/statemachines/training.asl.json").read_text(encoding="utf-8")
)
STATES: dict[str, Any] = DEFINITION["States"]
#: The functions that run the typed steps (template.yaml DefinitionSubstitutions), by code directory:
#: Prepare on the prepare function (pyarrow), every other step on the training code.
STEP_FUNCTIONS = {
    "${TrainFunctionArn}": "functions/train",
    "${PublishFunctionArn}": "functions/train",
    "${PrepareFunctionArn}": "functions/prepare",
}


def _train_tasks() -> dict[str, str]:
    """State name -> the step it asks a training function (prepare or train) for."""
    tasks = {}
    for name, state in STATES.items():
        parameters = state.get("Parameters") or {}
        if state["Type"] == "Task" and parameters.get("FunctionName") in STEP_FUNCTIONS:
            tasks[name] = parameters["Payload"]["step"]
    publish = STATES["Publish"]
    tasks["Publish"] = publish["ItemSelector"]["step"]
    return tasks


def _handled_steps(code: str) -> set[str]:
    """The steps a handler's request models accept: the `Literal` values of their `step` fields."""
    tree = ast.parse((repo_root() / code / "app.py").read_text(encoding="utf-8"))
    steps: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "step":
            steps |= {
                c.value
                for c in ast.walk(node.annotation)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return steps


def _task_functions(states: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(state, function placeholder, payload) of every Lambda task, inside the Map's processor too."""
    found = []
    for name, state in states.items():
        parameters = state.get("Parameters") or {}
        if state["Type"] == "Task" and "FunctionName" in parameters:
            found.append(
                (name, parameters["FunctionName"], parameters.get("Payload", parameters.get("Payload.$")))
            )
        if "ItemProcessor" in state:
            found += _task_functions(state["ItemProcessor"]["States"])
    return found


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


def test_each_step_goes_to_the_function_whose_handler_takes_it() -> None:
    # Given the steps each handler's request models accept (the training code and the prepare function)
    handled = {code: _handled_steps(code) for code in set(STEP_FUNCTIONS.values())}
    # Then they share no step and, together, take every typed step
    assert not handled["functions/train"] & handled["functions/prepare"]
    assert handled["functions/train"] | handled["functions/prepare"] == set(STEP_DOCUMENTS)
    assert handled["functions/prepare"] == {"plan_prepare", "prepare", "prepared_result", "import_factors"}
    # And every task that sends a step sends it to a function that takes it: Prepare and
    # ImportFactors (both read Parquet), and Prepare's plan and container result, to the prepare
    # function, the rest to the training code (the Map's shards receive its ItemSelector)
    selector_step = STATES["Publish"]["ItemSelector"]["step"]
    tasks = _task_functions(STATES)
    on_prepare = {name for name, function, _ in tasks if function == "${PrepareFunctionArn}"}
    assert on_prepare == {"PlanPrepare", "Prepare", "PreparedResult", "ImportFactors"}
    for name, function, payload in tasks:
        if function not in STEP_FUNCTIONS:
            continue
        step = payload["step"] if isinstance(payload, dict) else selector_step
        assert step in handled[STEP_FUNCTIONS[function]], (name, function, step)


@pytest.mark.parametrize(
    ("state", "previous"),
    [
        ("Train", "Prepare"),
        ("ImportFactors", "Prepare"),
        ("Train", "ImportFactors"),
        ("Evaluate", "Train"),
        ("Cleanup", "Flip"),
        ("CheckImport", "StartImport"),
        ("Flip", "CheckImport"),
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
    # And Flip takes the evaluated document plus the Map's result under its ResultPath, straight
    # from the Map or, when the plan names a table to import into, after the import
    choice = STATES[publish["Next"]]
    assert choice["Default"] == "Flip"
    assert [c["Next"] for c in choice["Choices"]] == ["StartImport"]
    assert {_first_field(variable) for variable in _variables(choice["Choices"])} <= _fields(PublishedJob)
    assert STATES["StartImport"]["Next"] == "CheckImport"
    assert STATES["CheckImport"]["Next"] == "Flip"
    assert STEP_DOCUMENTS["start_import"][0] is PublishedJob
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


def test_a_spark_window_goes_through_emr_serverless_and_its_factors_back_to_train() -> None:
    # Given the states between Prepare and Train
    assert STATES["Prepare"]["Next"] == "ChooseEngine"
    choose = STATES["ChooseEngine"]
    (rule,) = [r for r in choose["Choices"] if r["Next"] == "TrainOnSpark"]
    # Then only a present engine of "spark" takes the Spark branch; anything else trains on Lambda
    assert {"Variable": "$.engine", "IsPresent": True} in rule["And"]
    assert {"Variable": "$.engine", "StringEquals": "spark"} in rule["And"]
    assert rule["Next"] == "TrainOnSpark"
    assert choose["Default"] == "Train"
    assert "engine" in _fields(STEP_DOCUMENTS["prepare"][1])
    # And TrainOnSpark waits for the job run, reads its entry point and arguments from Prepare's
    # document and hands that document on unchanged (ResultPath null) to ImportFactors
    spark = STATES["TrainOnSpark"]
    assert spark["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    submit = spark["Parameters"]["JobDriver"]["SparkSubmit"]
    run_fields = _fields(STEP_DOCUMENTS["prepare"][1].model_fields["spark"].annotation.__args__[0])  # type: ignore[union-attr]
    for path in (submit["EntryPoint.$"], submit["EntryPointArguments.$"]):
        assert path.startswith("$.spark.")
        assert path.removeprefix("$.spark.") in run_fields
    assert _first_field(spark["Parameters"]["Name.$"]) in _fields(STEP_DOCUMENTS["prepare"][1])
    assert spark["ResultPath"] is None
    assert spark["Next"] == "ImportFactors"
    assert STATES["ImportFactors"]["Next"] == "Train"
    # And a failed or timed-out job run is recorded and notified like any failed step
    assert spark["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
    ]
    assert 0 < spark["TimeoutSeconds"] < DEFINITION["TimeoutSeconds"]


def test_a_container_window_trains_and_evaluates_on_batch_and_its_result_goes_to_the_gate() -> None:
    # Given the engine choice: Spark's rule first (its threshold wins when both are reached)
    choose = STATES["ChooseEngine"]
    targets = [rule["Next"] for rule in choose["Choices"]]
    assert targets == ["TrainOnSpark", "TrainInContainer"]
    (rule,) = [r for r in choose["Choices"] if r["Next"] == "TrainInContainer"]
    # Then only a present engine of "container" takes the container branch
    assert {"Variable": "$.engine", "IsPresent": True} in rule["And"]
    assert {"Variable": "$.engine", "StringEquals": "container"} in rule["And"]
    assert "container" in typing.get_args(PreparedJob.model_fields["engine"].annotation)
    # And TrainInContainer waits for the Batch job, hands it Prepare's whole document in the
    # variable the entry point reads, and passes that document on unchanged to ContainerResult
    task = STATES["TrainInContainer"]
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    parameters = task["Parameters"]
    assert parameters["JobQueue"] == "${TrainingJobQueueArn}"
    assert parameters["JobDefinition"] == "${TrainingJobDefinitionArn}"
    assert parameters["ContainerOverrides"]["Environment"] == [
        {"Name": JOB_VARIABLE, "Value.$": "States.JsonToString($)"}
    ]
    assert task["ResultPath"] is None
    assert task["Next"] == "ContainerResult"
    # And ContainerResult (on the training function) takes that document and gives the Gate
    # the evaluated one, as Evaluate does
    result = STATES["ContainerResult"]
    assert result["Parameters"]["Payload"] == {"step": "container_result", "job.$": "$"}
    assert result["OutputPath"] == "$.Payload"
    assert result["Next"] == "Gate"
    assert STEP_DOCUMENTS["container_result"] == (PreparedJob, EvaluatedJob)
    assert STEP_DOCUMENTS["container_result"][1] is STEP_DOCUMENTS["evaluate"][1]
    # And a failed, stuck or timed-out job is recorded and notified like any failed step
    for state in (task, result):
        assert state["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ]
    assert 0 < task["TimeoutSeconds"] < DEFINITION["TimeoutSeconds"]


def test_a_large_lake_window_prepares_on_batch_and_the_rest_of_the_run_is_unchanged() -> None:
    # Given the states between Purge and ChooseEngine
    assert STATES["Purge"]["Next"] == STATES["NotifyPurgeFailure"]["Next"] == "PlanPrepare"
    plan = STATES["PlanPrepare"]
    assert plan["Next"] == "WherePrepare"
    # Then PlanPrepare takes the document Prepare takes and puts its plan beside the run's input
    assert plan["Parameters"]["Payload"]["job"] == STATES["Prepare"]["Parameters"]["Payload"]["job"]
    assert STEP_DOCUMENTS["plan_prepare"] == (PrepareRequest, PreparePlan)
    assert plan["ResultPath"] == "$.preparePlan"
    selected = {key.removesuffix(".$"): value for key, value in plan["ResultSelector"].items()}
    assert set(selected) == _fields(PreparePlan)
    assert all(value == f"$.Payload.{key}" for key, value in selected.items())
    # And only a present plan engine of "container" takes the container's Prepare
    where = STATES["WherePrepare"]
    assert where["Default"] == "Prepare"
    (rule,) = where["Choices"]
    assert rule["Next"] == "PrepareInContainer"
    assert {"Variable": "$.preparePlan.engine", "IsPresent": True} in rule["And"]
    assert {"Variable": "$.preparePlan.engine", "StringEquals": "container"} in rule["And"]
    assert "container" in typing.get_args(PreparePlan.model_fields["engine"].annotation)
    # And PrepareInContainer runs the entry point's prepare step on the training job's queue and
    # definition, handing it the planned request in the variable the entry point reads
    task = STATES["PrepareInContainer"]
    assert task["Resource"] == "arn:aws:states:::batch:submitJob.sync"
    parameters = task["Parameters"]
    assert parameters["JobQueue"] == "${TrainingJobQueueArn}"
    assert parameters["JobDefinition"] == "${TrainingJobDefinitionArn}"
    overrides = parameters["ContainerOverrides"]
    assert overrides["Command"] == ["python", "-m", "recs.wiring.train_container", "--step", "prepare"]
    assert overrides["Environment"] == [
        {"Name": JOB_VARIABLE, "Value.$": "States.JsonToString($.preparePlan.request)"}
    ]
    assert parameters["Timeout"]["AttemptDurationSeconds"] < task["TimeoutSeconds"]
    assert 0 < task["TimeoutSeconds"] < DEFINITION["TimeoutSeconds"]
    assert task["ResultPath"] is None
    assert task["Next"] == "PreparedResult"
    # And PreparedResult hands ChooseEngine the prepared job, as Prepare does
    result = STATES["PreparedResult"]
    assert result["Parameters"]["Payload"] == {"step": "prepared_result", "job.$": "$.preparePlan.request"}
    assert STEP_DOCUMENTS["prepared_result"] == STEP_DOCUMENTS["prepare"]
    assert result["OutputPath"] == STATES["Prepare"]["OutputPath"] == "$.Payload"
    assert result["Next"] == STATES["Prepare"]["Next"] == "ChooseEngine"
    # And each of them fails into RecordFailure like every step
    for state in (plan, task, result):
        assert state["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ]
