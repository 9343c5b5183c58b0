"""Prepare in the training container in template.yaml: off by default, refused without the
container engine, the prepare function told its threshold, and the job role given Prepare's own
rights (the prepare function's statements, as tightly scoped) only in a stack that prepares there."""

from __future__ import annotations

from typing import Any

from recs.config.train import TrainSettings
from recs.store_layout import CATALOG_OBJECT_KEY, PREPARED_DAYS_PREFIX, PREPARED_RUNS_PREFIX
from tests.unit.deploy.test_samconfig import _failed_rules
from tests.unit.deploy.test_template_spark import _conditional_statements, _listed

PREPARE_CONDITION = "PrepareInContainerEnabled"
CONTAINER_ENGINE = {
    "ContainerMinInteractions": "5000000",
    "TrainingImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs-training:1",
    "ContainerVpcId": "vpc-0123456789abcdef0",
    "ContainerSubnetIds": "subnet-0123456789abcdef0",
}


def _conditional_policies(role: dict[str, Any]) -> dict[str, tuple[str, dict[str, dict[str, Any]]]]:
    """The role's policies given only under a condition: name -> (condition, statements by Sid)."""
    found = {}
    for policy in role["Properties"]["Policies"]:
        if "Fn::If" in policy:
            condition, granted, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, policy
            statements = {s["Sid"]: s for s in granted["PolicyDocument"]["Statement"]}
            found[granted["PolicyName"]] = (condition, statements)
    return found


def test_the_threshold_is_off_by_default_and_needs_the_container_engine(template: dict[str, Any]) -> None:
    # Given the parameter / Then it is a number, 0 by default
    parameter = template["Parameters"]["PrepareContainerMinLakeBytes"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    # And the condition needs both the threshold and the container engine
    assert template["Conditions"][PREPARE_CONDITION] == {
        "Fn::And": [
            {"Condition": "ContainerEnabled"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "PrepareContainerMinLakeBytes"}, 0]}]},
        ]
    }
    # When it is set without the engine / Then the deploy is refused, naming what is missing
    assert _failed_rules(template, {"PrepareContainerMinLakeBytes": "100000000000"}) == [
        "PrepareContainerMinLakeBytes > 0 needs ContainerMinInteractions > 0."
    ]
    # And with the engine it is accepted
    assert _failed_rules(template, {**CONTAINER_ENGINE, "PrepareContainerMinLakeBytes": "100000000000"}) == []


def test_the_prepare_function_gets_the_threshold_and_reads_the_container_prepared_job(
    resources: dict[str, Any],
) -> None:
    # Given the prepare function (it plans where Prepare runs and reads the container's result)
    function = resources["PrepareFunction"]["Properties"]
    variables = function["Environment"]["Variables"]
    # Then it reads the stack's threshold under the setting's name
    assert variables["PREPARE_CONTAINER_MIN_LAKE_BYTES"] == {"Ref": "PrepareContainerMinLakeBytes"}
    assert "prepare_container_min_lake_bytes" in TrainSettings.model_fields
    # And only in a stack that prepares in the container may it read the stored prepared jobs
    (statements,) = [s for c, s in _conditional_statements(function["Policies"]) if c == PREPARE_CONDITION]
    (read,) = statements
    assert read["Action"] == "s3:GetObject"
    assert read["Resource"] == {"Fn::Sub": f"${{ArtifactBucket.Arn}}/{PREPARED_RUNS_PREFIX}*"}


def test_the_job_role_gets_prepares_rights_only_where_prepare_runs_in_the_container(
    resources: dict[str, Any],
) -> None:
    # Given the job role's conditional policies
    policies = _conditional_policies(resources["TrainingJobRole"])
    condition, statements = policies["prepare"]
    assert condition == PREPARE_CONDITION
    # Then it reads the lake's events and lists only their prefix
    assert statements["ReadLakeWindow"]["Action"] == "s3:GetObject"
    assert statements["ReadLakeWindow"]["Resource"] == {"Fn::Sub": "${EventLakeBucket.Arn}/events/*"}
    assert statements["ListLakeWindow"]["Condition"] == {"StringLike": {"s3:prefix": ["events/*"]}}
    assert TrainSettings.model_fields["lake_prefix"].default == "events/"
    # And in the artifact bucket: the catalog export read, the kept days read, written and
    # deleted, the version's prepared arrays and the run's prepared job written, and listing
    # of the catalog and the kept days only
    assert statements["ReadCatalogExport"]["Resource"] == {
        "Fn::Sub": f"${{ArtifactBucket.Arn}}/{CATALOG_OBJECT_KEY}"
    }
    assert statements["PreparedDays"]["Resource"] == {
        "Fn::Sub": f"${{ArtifactBucket.Arn}}/{PREPARED_DAYS_PREFIX}*"
    }
    assert set(statements["PreparedDays"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert statements["PreparedVersionAndRun"]["Action"] == "s3:PutObject"
    assert [r["Fn::Sub"] for r in statements["PreparedVersionAndRun"]["Resource"]] == [
        "${ArtifactBucket.Arn}/models/*/prepared/*",
        f"${{ArtifactBucket.Arn}}/{PREPARED_RUNS_PREFIX}*",
    ]
    assert statements["ListCatalogAndPreparedDays"]["Condition"] == {
        "StringLike": {"s3:prefix": [CATALOG_OBJECT_KEY, f"{PREPARED_DAYS_PREFIX}*"]}
    }
    # And the state table's scan (opt-outs, tombstones) and the pseudonym key, by name
    assert statements["OptOutsAndTombstones"]["Resource"] == {"Fn::GetAtt": ["StateTable", "Arn"]}
    assert statements["PseudonymKey"] == {
        "Sid": "PseudonymKey",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "PseudonymSecret"},
    }
    actions = {a for s in statements.values() for a in _listed(s["Action"])}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "dynamodb:Scan",
        "secretsmanager:GetSecretValue",
    }
    assert all(s["Resource"] != "*" for s in statements.values())
    # And a Spark window's job and input only where Spark is on too
    condition, spark = policies["prepare-for-spark"]
    assert condition == "PrepareInContainerWithSpark"
    assert [r["Fn::Sub"] for r in spark["SparkJobAndInput"]["Resource"]] == [
        "${ArtifactBucket.Arn}/models/*/spark/als_job.py",
        "${ArtifactBucket.Arn}/models/*/spark/input/*",
    ]


def test_the_stored_prepared_jobs_expire(resources: dict[str, Any]) -> None:
    rules = resources["ArtifactBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if r.get("Prefix") == PREPARED_RUNS_PREFIX]
    assert rule["Status"] == "Enabled"
    assert 0 < rule["ExpirationInDays"] <= 30
    # And no rule expires the kept days (the purge and Prepare manage them)
    assert not [r for r in rules if PREPARED_DAYS_PREFIX.startswith(r.get("Prefix", "-"))]
