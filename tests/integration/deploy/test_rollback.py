"""`recs_tools.deploy.rollback` on the local stack: two published versions, one command, the older one
serves."""

from __future__ import annotations

import json

import pytest

from recs.store_layout import version_meta_key
from recs_tools.deploy import rollback
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event
from tests.integration.serving.world import (
    EXPIRES,
    RERANK_LIST,
    RERANK_USER,
    RICH_USER,
    VERSION,
    World,
    ids,
    sku,
)
from tests.integration.training.support import ingest_shop, model_row, pointer


def test_rollback_serves_the_previous_version_and_refuses_a_second_blind_rollback(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two published versions, the second one current
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    first = pointer(stack)
    assert first is not None
    assert stack.run_training()["status"] == "SUCCEEDED"
    second = pointer(stack)
    assert second is not None
    assert second["modelVersion"] != first["modelVersion"]
    assert second["previousVersion"] == first["modelVersion"]
    table = stack.physical["ModelTable"]

    # When the operator rolls back with one command
    assert rollback.main(["--table", table]) == 0

    # Then the pointer names the first version, remembers where it came from, and the
    # abandoned version is marked
    current = pointer(stack)
    assert current is not None
    assert current["modelVersion"] == first["modelVersion"]
    assert current["rolledBackFrom"] == second["modelVersion"]
    assert "now serves " + first["modelVersion"] in capsys.readouterr().out
    abandoned = model_row(stack, *version_meta_key(second["modelVersion"]))
    assert abandoned is not None
    assert "rolledBackAt" in abandoned
    # And the recommend function serves the first version
    served = stack.invoke("RecommendFunction", load_event("recommend_anonymous"))
    assert served["statusCode"] == 200
    assert body_of(served)["modelVersion"] == first["modelVersion"]

    # When the operator runs it again without naming a version
    # Then it refuses and leaves the pointer where it is
    assert rollback.main(["--table", table]) == 1
    assert "name one with --to" in capsys.readouterr().err
    assert pointer(stack) == current

    # And --to the newer version (forward again) works, --dry-run first changing nothing
    assert rollback.main(["--table", table, "--to", second["modelVersion"], "--dry-run"]) == 0
    assert pointer(stack) == current
    assert rollback.main(["--table", table, "--to", second["modelVersion"]]) == 0
    assert pointer(stack)["modelVersion"] == second["modelVersion"]  # type: ignore[index]


def test_the_stack_name_finds_the_model_table_from_the_stacks_outputs(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a published version and a CloudFormation stack whose ModelTableName output names its table
    ingest_shop(stack)
    assert stack.run_training()["status"] == "SUCCEEDED"
    table = stack.physical["ModelTable"]
    stack.client("cloudformation").create_stack(
        StackName="recs-smoke",
        TemplateBody=json.dumps(
            {
                "Resources": {"Alerts": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"ModelTableName": {"Value": table}},
            }
        ),
    )
    # When a dry run is asked for by stack name
    code = rollback.main(["--stack", "recs-smoke", "--dry-run"])
    # Then it reads that table and refuses: the only version has no previous one
    assert code == 1
    assert "name one with --to" in capsys.readouterr().err


def test_a_stack_without_the_model_table_output_is_refused_by_name(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a CloudFormation stack that is not this project's (no ModelTableName output)
    stack.client("cloudformation").create_stack(
        StackName="someone-else",
        TemplateBody=json.dumps({"Resources": {"Alerts": {"Type": "AWS::SNS::Topic"}}}),
    )
    # When a rollback names it
    code = rollback.main(["--stack", "someone-else", "--dry-run"])
    # Then it is refused with the missing output and what to pass instead, not a traceback
    assert code == 1
    error = capsys.readouterr().err
    assert "stack 'someone-else' has no ModelTableName output" in error
    assert "--table" in error


def test_a_rollback_to_a_delta_version_serves_its_bases_rows_to_users_it_did_not_write(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a full version (the serving world's), a delta of it that wrote only RICH_USER's
    # changed list, and a newer full version serving now that has no user's row at all
    world = World(stack)
    world.publish_everything()
    delta, newer = "v20260102T000000Z-delta1", "v20260103T000000Z-full02"
    changed = [(sku(n), 1.0 - n / 100, "similar-users") for n in range(20, 30)]
    world.publish_everything(version=delta, skip={"user", "sparse"}, pointer=False)
    world.user_list(RICH_USER, changed, version=delta)
    world.publish_everything(version=newer, skip={"user", "sparse"})
    for version, base in ((VERSION, VERSION), (delta, VERSION), (newer, newer)):
        pk, sk = version_meta_key(version)
        meta = {"status": "published", "generatedAt": "2026-01-01T00:00:00Z", "baseVersion": base}
        world.models.put({"pk": pk, "sk": sk, **meta, "expiresAt": EXPIRES})
    # When the operator rolls back to the delta
    assert rollback.main(["--table", stack.physical["ModelTable"], "--to", delta]) == 0
    assert "now serves " + delta in capsys.readouterr().out
    # Then the pointer names the delta and its base
    current = pointer(stack)
    assert current is not None
    assert (current["modelVersion"], current["baseVersion"]) == (delta, VERSION)
    # And the recommend function serves the delta's own row to the user it wrote, and the
    # base's to a user it did not
    world.service()._repo._control = None
    _, written, _ = world.ask("recommend_homepage", userId=RICH_USER)
    _, unchanged, _ = world.ask("recommend_homepage", userId=RERANK_USER)
    assert ids(written) == [p for p, _, _ in changed]
    assert ids(unchanged)[:2] == [p for p, _, _ in RERANK_LIST]
    assert written["modelVersion"] == unchanged["modelVersion"] == delta
