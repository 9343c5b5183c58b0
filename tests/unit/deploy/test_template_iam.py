"""Least privilege: each function's policies, named one by one, on resources of this stack."""

from __future__ import annotations

import re
from typing import Any

import pytest

#: What each function may do, on what: a SAM policy template (or an action of an inline
#: statement) and the logical id it is scoped to. Widening a function's rights means editing
#: this inventory, on purpose.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "RecommendFunction": {
        ("DynamoDBReadPolicy", "ModelTable"),
        ("DynamoDBReadPolicy", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    "IngestFunction": {
        ("FirehoseWritePolicy", "EventDeliveryStream"),
        ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    "PrivacyFunction": {
        ("DynamoDBCrudPolicy", "ModelTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    "PurgeFunction": {
        ("S3CrudPolicy", "EventLakeBucket"),
        ("S3CrudPolicy", "ArtifactBucket"),
        ("DynamoDBCrudPolicy", "ModelTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    "CatalogFunction": {
        ("s3:GetObject", "ArtifactBucket"),
        ("s3:ListBucket", "ArtifactBucket"),
        ("dynamodb:GetItem", "ModelTable"),
        ("dynamodb:PutItem", "ModelTable"),
        ("dynamodb:BatchWriteItem", "ModelTable"),
    },
    "TrainFunction": {
        ("S3ReadPolicy", "EventLakeBucket"),
        ("S3CrudPolicy", "ArtifactBucket"),
        ("DynamoDBCrudPolicy", "ModelTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
}

#: CloudWatch Logs' log-delivery actions have no resource-level permissions: "*" is required.
_NO_RESOURCE_LEVEL = frozenset(
    {
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
)


def _targets(value: Any) -> set[str]:
    """The logical ids a policy parameter or a statement's Resource names."""
    if isinstance(value, list):
        return set().union(*(_targets(v) for v in value)) if value else set()
    if isinstance(value, dict):
        if "Ref" in value:
            return {value["Ref"]}
        if "Fn::GetAtt" in value:
            return {value["Fn::GetAtt"][0]}
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            return {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text) if "::" not in name}
        return set().union(*(_targets(v) for v in value.values())) if value else set()
    return set()


def _grants(policies: list[Any]) -> set[tuple[str, str]]:
    grants: set[tuple[str, str]] = set()
    for policy in policies:
        assert isinstance(policy, dict), f"managed policy {policy!r}: name the actions instead"
        ((name, parameters),) = policy.items()
        if name != "Statement":
            grants |= {(name, target) for target in _targets(parameters)}
            continue
        for statement in parameters:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            grants |= {(action, target) for action in actions for target in _targets(statement["Resource"])}
    return grants


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_gets_exactly_its_inventory_on_named_resources(
    function: str, resources: dict[str, Any]
) -> None:
    # Given the function's Policies in template.yaml
    policies = resources[function]["Properties"]["Policies"]
    # When they are read as (template or action, resource) grants
    grants = _grants(policies)
    # Then they are exactly the inventory, and every resource named is one of this stack
    assert grants == EXPECTED[function]
    assert {target for _, target in grants} <= set(resources)
    # And no statement grants on "*": a wildcard may only name object keys inside a bucket of
    # this stack ("${Bucket.Arn}/catalog/*")
    for policy in policies:
        for statement in policy.get("Statement", []):
            resources_named = statement["Resource"]
            for resource in resources_named if isinstance(resources_named, list) else [resources_named]:
                text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else str(resource)
                inside_a_bucket = re.match(r"^\$\{\w+\.Arn\}/[\w./*-]+$", str(text)) is not None
                assert inside_a_bucket or "*" not in str(resource), resource


def test_every_function_of_the_template_has_an_inventory(resources: dict[str, Any]) -> None:
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(EXPECTED)


def test_the_workflow_grants_star_only_for_actions_without_resource_level_permissions(
    resources: dict[str, Any],
) -> None:
    # Given the state machine's inline statements
    policies = resources["TrainingStateMachine"]["Properties"]["Policies"]
    statements = [s for p in policies for s in p.get("Statement", [])]
    # Then the only "*" is the log delivery statement, and the others name this stack's machine
    starred = [s for s in statements if s["Resource"] == "*"]
    assert [set(s["Action"]) for s in starred] == [set(_NO_RESOURCE_LEVEL)]
    for statement in statements:
        if statement not in starred:
            assert "${AWS::StackName}-training" in statement["Resource"]["Fn::Sub"]
    # And its policy templates are scoped to the functions, topic and bucket of the stack
    scoped = _grants([p for p in policies if "Statement" not in p])
    assert {target for _, target in scoped} == {
        "TrainFunction",
        "PurgeFunction",
        "TrainingAlertsTopic",
        "ArtifactBucket",
    }


def test_the_firehose_role_writes_only_the_lake(resources: dict[str, Any]) -> None:
    role = resources["DeliveryStreamRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {t for s in statements for t in _targets(s["Resource"])} == {"EventLakeBucket"}
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
