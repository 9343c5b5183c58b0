"""Publishing a large shop by ImportTable, on the local stack with the real state machine (moto
imports gzip DynamoDB JSON from its S3): each run above IMPORT_TABLE_MIN_USERS imports its users'
rows into a table of its own, the pointer names it and serving reads it; the pointer flips from
table to table, rollback flips back, the erasure reaches every live table and Cleanup deletes an
expired one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recs.store_layout import (
    LISTS_TABLES_PK,
    decode_items,
    lists_table_key,
    purchased_pk,
    user_pk,
    version_meta_key,
    version_sk,
)
from recs.training.workflow import PreparedJob
from recs_tools.deploy import rollback
from recs_tools.local.stack import STACK_NAME, LocalStack
from tests.helpers import body_of, load_event
from tests.integration.privacy.support import request_erasure
from tests.integration.serving.world import with_query
from tests.integration.training.support import (
    PSEUDONYMS,
    artifact_keys,
    entered_states,
    ingest_shop,
    model_row,
    model_rows,
    pointer,
    publish_pipeline,
    train_pipeline,
)

DAY = 86_400


def _imports_above_one_user(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """IMPORT_TABLE_MIN_USERS 1 on the training function (Train makes the plan the shards follow),
    with fixed parameters: the search's wall-clock budget would let a busy machine choose
    another family from one run to the next."""
    fixed = {"import_table_min_users": 1, "auto_tune": False, "model_family": "als", "top_k": 10}
    for pipeline in (train_pipeline(stack), publish_pipeline(stack)):
        monkeypatch.setattr(pipeline, "params", pipeline.params.model_copy(update=fixed))


def _items(stack: LocalStack, table: str) -> dict[str, dict[str, Any]]:
    paginator = stack.client("dynamodb").get_paginator("scan")
    return {
        item["pk"]["S"]: {key: next(iter(value.values())) for key, value in item.items()}
        for page in paginator.paginate(TableName=table)
        for item in page["Items"]
    }


def _tables(stack: LocalStack) -> set[str]:
    return set(stack.client("dynamodb").list_tables()["TableNames"])


def _served(stack: LocalStack, user: str) -> dict[str, Any]:
    # A warm container re-reads the pointer after its control TTL: forget it, as then.
    stack.function("RecommendFunction").module.service._repo._control = None
    served = stack.invoke("RecommendFunction", with_query(load_event("recommend_homepage"), userId=user))
    assert served["statusCode"] == 200
    body: dict[str, Any] = body_of(served)
    return body


def _shopper(shop: Any, rows: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    """A shopper with a list of the version (raw id) and that list's products."""
    raw = {PSEUDONYMS.user(user): user for user in shop.users if user not in set(shop.opted_out_user_ids)}
    for pk, row in sorted(rows.items()):
        user = raw.get(pk.removeprefix(user_pk("")))
        if pk.startswith(user_pk("")) and user:
            return user, [pid for pid, _, _ in decode_items(str(row["d"]))]
    raise AssertionError("no shopper with a list")


def _trained(stack: LocalStack) -> tuple[str, str, dict[str, Any]]:
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    current = pointer(stack)
    assert current is not None
    return str(current["modelVersion"]), str(current["listsTable"]), json.loads(execution["output"])


def test_a_large_run_imports_its_users_rows_into_its_own_table_and_serves_them_from_it(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a shop above the import threshold
    _imports_above_one_user(stack, monkeypatch)
    shop = ingest_shop(stack)
    # When the workflow runs
    execution = stack.run_training()
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    version = str(pointer(stack)["modelVersion"])  # type: ignore[index]
    table = f"{STACK_NAME}-lists-{version}"
    # Then it went through the import states, and the pointer and the version's META name the table
    states = entered_states(stack, execution)
    assert states.index("StartImport") < states.index("CheckImport") < states.index("Flip")
    assert pointer(stack)["listsTable"] == table  # type: ignore[index]
    assert model_row(stack, *version_meta_key(version))["listsTable"] == table  # type: ignore[index]
    assert model_row(stack, *lists_table_key(version))["status"] == "published"  # type: ignore[index]
    # And the table holds every user's row the shards wrote, the model table none of them
    imported = _items(stack, table)
    output = json.loads(execution["output"])
    assert output["tableImport"]["importedItems"] == len(imported) > 0
    assert {row["sk"] for row in imported.values()} == {version_sk(version)}
    assert all(pk.startswith((user_pk(""), purchased_pk(""))) for pk in imported)
    in_model_table = [r for r in model_rows(stack) if r["pk"].startswith((user_pk(""), purchased_pk("")))]
    assert in_model_table == []
    # And the import files were intermediate: Cleanup removed them
    assert artifact_keys(stack, f"models/{version}/import/") == []
    # And a shopper is served their list from that table
    user, listed = _shopper(shop, imported)
    body = _served(stack, user)
    assert body["modelVersion"] == version
    assert body["source"] == "user"
    assert [p["id"] for p in body["products"] if p["id"] in listed]


def test_the_pointer_flips_between_tables_rollback_flips_back_and_cleanup_deletes_an_expired_one(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two runs above the threshold
    _imports_above_one_user(stack, monkeypatch)
    shop = ingest_shop(stack)
    v1, t1, _ = _trained(stack)
    v2, t2, _ = _trained(stack)
    # Then each imported into its own table, and the pointer moved to the second's
    assert t1 != t2
    assert {t1, t2} <= _tables(stack)
    assert pointer(stack)["previousVersion"] == v1  # type: ignore[index]
    user, _ = _shopper(shop, _items(stack, t2))
    assert _served(stack, user)["modelVersion"] == v2

    # When the operator rolls back
    assert rollback.main(["--table", stack.physical["ModelTable"]]) == 0
    # Then the pointer names the first version and its table again, and serving reads it
    assert pointer(stack)["modelVersion"] == v1  # type: ignore[index]
    assert pointer(stack)["listsTable"] == t1  # type: ignore[index]
    listed = [pid for pid, _, _ in decode_items(str(_items(stack, t1)[user_pk(PSEUDONYMS.user(user))]["d"]))]
    body = _served(stack, user)
    assert body["modelVersion"] == v1
    assert body["source"] == "user"
    assert [p["id"] for p in body["products"] if p["id"] in listed]
    # (forward again, to the second version)
    assert rollback.main(["--table", stack.physical["ModelTable"], "--to", v2]) == 0

    # When the first table is past its rollback window and a third run cleans up
    registered = model_row(stack, *lists_table_key(v1))
    assert registered is not None
    old = int(registered["createdAt"]) - 8 * DAY
    stack.client("dynamodb").update_item(
        TableName=stack.physical["ModelTable"],
        Key={"pk": {"S": LISTS_TABLES_PK}, "sk": {"S": version_sk(v1)}},
        UpdateExpression="SET createdAt = :old",
        ExpressionAttributeValues={":old": {"N": str(old)}},
    )
    v3, t3, output = _trained(stack)
    # Then only the expired table is deleted (the previous one is within its window), and forgotten
    assert output["cleanedUp"]["listsTablesDeleted"] == [t1]
    assert t1 not in _tables(stack)
    assert {t2, t3} <= _tables(stack)
    assert model_row(stack, *lists_table_key(v1)) is None
    # And a rollback to the first version is refused: its users' lists are gone
    capsys.readouterr()
    assert rollback.main(["--table", stack.physical["ModelTable"], "--to", v1]) == 1
    assert "has been deleted" in capsys.readouterr().err
    assert pointer(stack)["modelVersion"] == v3  # type: ignore[index]


def test_an_erasure_deletes_the_users_rows_from_every_live_table(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two imported versions whose tables both hold a shopper's rows
    _imports_above_one_user(stack, monkeypatch)
    shop = ingest_shop(stack)
    _, t1, _ = _trained(stack)
    _, t2, _ = _trained(stack)
    user, _ = _shopper(shop, _items(stack, t2))
    pseudonym = PSEUDONYMS.user(user)
    keys = {user_pk(pseudonym), purchased_pk(pseudonym)}
    assert keys & set(_items(stack, t1))
    assert keys & set(_items(stack, t2))
    # When the shopper asks for erasure
    status, accepted = request_erasure(stack, user)
    # Then their rows are gone from both tables at once, and counted
    assert status == 202
    assert accepted["removed"]["modelRows"] >= 2
    assert not keys & set(_items(stack, t1))
    assert not keys & set(_items(stack, t2))
    # And their next request is not personal
    assert _served(stack, user)["source"] != "user"


def test_a_failed_import_fails_the_run_the_previous_version_keeps_serving_and_its_table_goes(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published imported version, then a run whose import fails (its table exists already)
    _imports_above_one_user(stack, monkeypatch)
    ingest_shop(stack)
    v1, t1, _ = _trained(stack)
    pipeline = train_pipeline(stack)
    real = pipeline._publish_plan

    def clashing(job: Any, shards: int, users: int = 0) -> Any:
        plan = real(job, shards, users)
        stack.client("dynamodb").create_table(
            TableName=plan.importTable,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        return plan

    monkeypatch.setattr(pipeline, "_publish_plan", clashing)
    execution = stack.run_training()
    # Then the run failed through the failure path, and the first version keeps serving
    assert execution["status"] == "FAILED"
    states = entered_states(stack, execution)
    assert "CheckImport" in states
    assert "Flip" not in states
    assert "RecordFailure" in states
    assert pointer(stack)["modelVersion"] == v1  # type: ignore[index]
    assert pointer(stack)["listsTable"] == t1  # type: ignore[index]
    # And the failed run's table was deleted and forgotten
    registered = [r for r in model_rows(stack) if r["pk"] == LISTS_TABLES_PK]
    assert [r["table"] for r in registered] == [t1]
    assert {t for t in _tables(stack) if t.startswith(f"{STACK_NAME}-lists-")} == {t1}


def test_below_the_threshold_no_delta_is_made_against_an_imported_base(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an imported version serving
    _imports_above_one_user(stack, monkeypatch)
    ingest_shop(stack)
    version, _, _ = _trained(stack)
    meta = model_row(stack, *version_meta_key(version))
    assert meta is not None
    # When the next run has fewer users than the threshold, with changes-only publishing on
    pipeline = train_pipeline(stack)
    update = {"import_table_min_users": 1_000_000, "publish_changes_only": True}
    monkeypatch.setattr(pipeline, "params", pipeline.params.model_copy(update=update))
    job = PreparedJob(
        executionName="plan",
        modelVersion="v-next",
        generatedAt="now",
        endTs=float(meta["baseEndTs"]),
        stats={},
    )
    plan = pipeline._publish_plan(job, int(meta["hashShards"]), users=10)
    # Then it publishes every row into the model table (a delta's rows and its base's would be
    # in two tables)
    assert (plan.mode, plan.importTable) == ("full", None)
    # And at or above the threshold, it imports into the next version's table
    assert pipeline._publish_plan(job, 1, users=1_000_000).importTable == f"{STACK_NAME}-lists-v-next"


def test_an_erasure_during_an_importing_run_is_honoured_in_its_table_before_the_flip(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an imported version, and a second run during which (after Prepare read the
    # exclusions) a shopper with rows in the first table asks for erasure
    _imports_above_one_user(stack, monkeypatch)
    shop = ingest_shop(stack)
    _, t1, _ = _trained(stack)
    user, _ = _shopper(shop, _items(stack, t1))
    keys = {user_pk(PSEUDONYMS.user(user)), purchased_pk(PSEUDONYMS.user(user))}
    pipeline = train_pipeline(stack)
    real_train = pipeline.train

    def train_after_request(job: Any, **options: Any) -> Any:
        assert request_erasure(stack, user)[0] == 202
        return real_train(job, **options)

    monkeypatch.setattr(pipeline, "train", train_after_request)
    # When the run imports its rows and flips
    _, t2, output = _trained(stack)
    # Then the request cleared the first table at once, and the flip the new one (its import
    # files scrubbed too) before the pointer named it
    assert output["flipped"]["lateErasures"] == 1
    assert not keys & set(_items(stack, t1))
    assert not keys & set(_items(stack, t2))
    assert _served(stack, user)["source"] != "user"


def test_the_stack_parameter_reaches_the_training_function_with_the_tables_prefix() -> None:
    # Given a stack deployed with ImportTableMinUsers
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", "ImportTableMinUsers": "50000"}) as local:
        pipeline = train_pipeline(local)
        # Then the training function imports from that many users, into <stack>-lists-<version>
        assert pipeline.params.import_table_min_users == 50_000
        assert pipeline.config.lists_table_prefix == f"{STACK_NAME}-lists"
        # And the publish function, which only follows the plan, can write import files
        assert publish_pipeline(local).deps.lists_tables is not None
