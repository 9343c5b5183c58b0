"""Least privilege: each function's policies, named one by one, on resources of this stack."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest

from recs.store_layout import (
    CATALOG_OBJECT_KEY,
    CATALOG_PK,
    LISTS_TABLES_PK,
    POINTER_KEY,
    PREPARED_DAYS_PREFIX,
    RULES_KEY,
    erasure_key,
    export_key,
    pending_erasure_key,
    popular_pk,
    preference_key,
    purchased_pk,
    rule_audit_key,
    session_key,
    similar_pk,
    tombstone_key,
    user_pk,
    version_meta_key,
)
from recs.training.publish import artifacts as paths
from tests.clock import PINNED_NOW

#: Reading, writing and deleting objects (multipart uploads included), and listing keys.
_OBJECT_CRUD = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListBucket")

#: What each function may do, on what: a SAM policy template (or an action of an inline
#: statement) and the logical id it is scoped to. Widening a function's rights means editing
#: this inventory, on purpose.
#: The per-version tables of a large shop (``<stack>-lists-<version>``, ImportTable publishing)
#: and the log groups ImportTable writes to: named by pattern, not by logical id.
LISTS_TABLES = "ListsTables"
IMPORT_LOGS = "ImportLogGroups"
_PATTERNS = {
    "table/${AWS::StackName}-lists-*": LISTS_TABLES,
    "log-group:/aws-dynamodb/*": IMPORT_LOGS,
}

EXPECTED: dict[str, set[tuple[str, str]]] = {
    # Point reads only: no Query, no Scan.
    "RecommendFunction": {
        ("dynamodb:GetItem", "ModelTable"),
        ("dynamodb:GetItem", "StateTable"),
        ("dynamodb:GetItem", LISTS_TABLES),
        ("dynamodb:BatchGetItem", "ModelTable"),
        ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:BatchGetItem", LISTS_TABLES),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    "IngestFunction": {
        ("FirehoseWritePolicy", "EventDeliveryStream"),
        ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    # Shoppers' and erasures' rows only (dynamodb:LeadingKeys, checked below).
    "PrivacyFunction": {
        ("dynamodb:Query", "ModelTable"),
        ("dynamodb:BatchWriteItem", "ModelTable"),
        ("dynamodb:Query", LISTS_TABLES),
        ("dynamodb:BatchWriteItem", LISTS_TABLES),
        ("dynamodb:GetItem", "StateTable"),
        ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:Query", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("dynamodb:BatchWriteItem", "StateTable"),
        # Presigned download URLs (signed by this role), an export's existence, erasure of exports.
        ("s3:GetObject", "ExportBucket"),
        ("s3:DeleteObject", "ExportBucket"),
        ("s3:ListBucket", "ExportBucket"),
        ("lambda:InvokeFunction", "ExportFunction"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    # One shopper's rows and the lake in, their export out; never rewrites the lake.
    "ExportFunction": {
        ("dynamodb:GetItem", "ModelTable"),
        ("dynamodb:BatchGetItem", "ModelTable"),
        ("dynamodb:GetItem", "StateTable"),
        ("dynamodb:BatchGetItem", "StateTable"),
        ("dynamodb:Query", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("dynamodb:BatchWriteItem", "StateTable"),
        ("s3:GetObject", "EventLakeBucket"),
        ("s3:ListBucket", "EventLakeBucket"),
        ("s3:PutObject", "ExportBucket"),
        ("s3:DeleteObject", "ExportBucket"),
        ("s3:AbortMultipartUpload", "ExportBucket"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    # The rules row and its audit records only (dynamodb:LeadingKeys, checked below).
    "AdminFunction": {
        ("dynamodb:GetItem", "StateTable"),
        ("dynamodb:PutItem", "StateTable"),
        ("dynamodb:Query", "StateTable"),
    },
    # Object-level S3 actions only: never a bucket's configuration (lifecycle, policy).
    "PurgeFunction": {
        *{(action, bucket) for action in _OBJECT_CRUD for bucket in ("EventLakeBucket", "ArtifactBucket")},
        ("dynamodb:Query", LISTS_TABLES),
        ("dynamodb:BatchWriteItem", LISTS_TABLES),
        ("s3:DeleteObject", "ExportBucket"),
        ("s3:ListBucket", "ExportBucket"),
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
    # A user shard: its version's artifacts in, its rows out.
    "PublishFunction": {
        ("s3:GetObject", "ArtifactBucket"),
        ("s3:PutObject", "ArtifactBucket"),
        ("dynamodb:BatchWriteItem", "ModelTable"),
    },
    # The Prepare step: the lake in, the catalog export, its decoded days and the version's
    # prepared arrays (prefixes pinned below), the version's META row, the opt-out scan; in a
    # stack with Spark, also the Spark path's keys and the pointer (test_template_spark.py).
    "PrepareFunction": {
        ("s3:GetObject", "EventLakeBucket"),
        ("s3:ListBucket", "EventLakeBucket"),
        ("s3:GetObject", "ArtifactBucket"),
        ("s3:PutObject", "ArtifactBucket"),
        ("s3:DeleteObject", "ArtifactBucket"),
        ("s3:ListBucket", "ArtifactBucket"),
        ("dynamodb:GetItem", "ModelTable"),
        ("dynamodb:PutItem", "ModelTable"),
        ("dynamodb:Scan", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
    },
    # Every other step: never the lake (only Prepare reads it, only the purge rewrites it).
    "TrainFunction": {
        *{(action, "ArtifactBucket") for action in _OBJECT_CRUD},
        ("DynamoDBCrudPolicy", "ModelTable"),
        ("DynamoDBCrudPolicy", "StateTable"),
        ("AWSSecretsManagerGetSecretValuePolicy", "PseudonymSecret"),
        # ImportTable publishing: the per-version tables' whole life, and the import's logs.
        *{
            (f"dynamodb:{action}", LISTS_TABLES)
            for action in (
                "ImportTable",
                "DescribeImport",
                "DescribeTable",
                "UpdateTable",
                "DeleteTable",
                "BatchGetItem",
                "BatchWriteItem",
            )
        },
        *{
            (f"logs:{action}", IMPORT_LOGS)
            for action in (
                "CreateLogGroup",
                "CreateLogStream",
                "DescribeLogStreams",
                "PutLogEvents",
                "PutRetentionPolicy",
            )
        },
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
            patterned = {name for suffix, name in _PATTERNS.items() if text.endswith(":" + suffix)}
            if patterned:
                return patterned
            return {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text) if "::" not in name}
        return set().union(*(_targets(v) for v in value.values())) if value else set()
    return set()


def _unconditional(policies: list[Any]) -> list[Any]:
    """The policies, a conditional one (``Fn::If: [condition, policy, AWS::NoValue]``, given
    only in a stack where the condition holds) as the policy it grants then."""
    flat = []
    for policy in policies:
        if isinstance(policy, dict) and "Fn::If" in policy:
            _, granted, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, policy
            policy = granted
        flat.append(policy)
    return flat


def _grants(policies: list[Any]) -> set[tuple[str, str]]:
    grants: set[tuple[str, str]] = set()
    for policy in _unconditional(policies):
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
    assert {target for _, target in grants} <= set(resources) | set(_PATTERNS.values())
    # And no statement grants on "*": a wildcard may only name object keys inside a bucket of
    # this stack ("${Bucket.Arn}/catalog/*")
    for policy in _unconditional(policies):
        for statement in policy.get("Statement", []):
            resources_named = statement["Resource"]
            for resource in resources_named if isinstance(resources_named, list) else [resources_named]:
                text = resource.get("Fn::Sub", "") if isinstance(resource, dict) else str(resource)
                inside_a_bucket = re.match(r"^\$\{\w+\.Arn\}/[\w./*-]+$", str(text)) is not None
                # or this stack's per-version tables, or ImportTable's log groups (by name prefix)
                patterned = any(str(text).endswith(":" + suffix) for suffix in _PATTERNS)
                assert inside_a_bucket or patterned or "*" not in str(resource), resource


def test_every_function_of_the_template_has_an_inventory(resources: dict[str, Any]) -> None:
    functions = {n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(EXPECTED)


def test_the_workflow_grants_star_only_for_actions_without_resource_level_permissions(
    resources: dict[str, Any],
) -> None:
    # Given the state machine's inline statements (the Spark engine's, given only in a stack that
    # has it, are tests/unit/deploy/test_template_spark.py's)
    policies = [p for p in resources["TrainingStateMachine"]["Properties"]["Policies"] if "Fn::If" not in p]
    statements = [s for p in policies for s in p.get("Statement", [])]
    # Then the only "*" is the log delivery statement, and the others name this stack's machine
    starred = [s for s in statements if s["Resource"] == "*"]
    assert [set(s["Action"]) for s in starred] == [set(_NO_RESOURCE_LEVEL)]
    s3 = [s for s in statements if "s3:" in str(s["Action"])]
    kms = [s for s in statements if "kms:" in str(s["Action"])]
    for statement in statements:
        if statement not in starred and statement not in s3 and statement not in kms:
            assert "${AWS::StackName}-training" in statement["Resource"]["Fn::Sub"]
    # And KMS only to publish to the encrypted alerts topic, with its key and no other
    assert [(s["Action"], s["Resource"]) for s in kms] == [
        (["kms:Decrypt", "kms:GenerateDataKey*"], {"Fn::GetAtt": ["AlertsKey", "Arn"]})
    ]
    # And S3 only where the Distributed Map reads its manifest and writes its results: objects
    # under two prefixes of the artifact bucket, never the bucket's configuration
    by_prefix = {s["Resource"]["Fn::Sub"]: s["Action"] for s in s3}
    assert by_prefix == {
        "${ArtifactBucket.Arn}/models/*": "s3:GetObject",
        "${ArtifactBucket.Arn}/publish-results/*": [
            "s3:PutObject",
            "s3:GetObject",
            "s3:ListMultipartUploadParts",
            "s3:AbortMultipartUpload",
        ],
    }
    # And its policy templates are scoped to the functions and topic of the stack
    scoped = _grants([p for p in policies if "Statement" not in p])
    assert {target for _, target in scoped} == {
        "TrainFunction",
        "PrepareFunction",
        "PublishFunction",
        "PurgeFunction",
        "TrainingAlertsTopic",
    }


def test_the_privacy_function_reaches_only_shoppers_and_erasures_rows_by_partition_key(
    resources: dict[str, Any],
) -> None:
    # Given the privacy function's statements and the keys it reads and writes (recs.store_layout)
    statements = {
        s["Sid"]: s
        for p in resources["PrivacyFunction"]["Properties"]["Policies"]
        for s in p.get("Statement", [])
    }
    used = {
        "ModelTable": [user_pk("p"), purchased_pk("p")],
        LISTS_TABLES: [user_pk("p"), purchased_pk("p")],
        "StateTable": [
            preference_key("p")[0],
            session_key("p")[0],
            erasure_key("r")[0],
            tombstone_key("t")[0],
            pending_erasure_key("r")[0],
            export_key("r")[0],
        ],
    }
    # (and, read only, the registry of per-version tables: the erasure deletes from each)
    registry = statements.pop("ListsTablesRegistry")
    assert registry["Action"] == "dynamodb:Query"
    assert registry["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == [LISTS_TABLES_PK]
    for statement in statements.values():
        if not statement["Action"][0].startswith("dynamodb:"):
            continue  # the export bucket and the export function (the inventory names them)
        (table,) = _targets(statement["Resource"])
        # Then every statement is limited by partition key, and lets through every key it needs
        patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert all(any(fnmatch.fnmatchcase(key, p) for p in patterns) for key in used[table]), table
        # And none that serving or training own: lists, the pointer, the catalog, shop-wide lists
        for foreign in (POINTER_KEY[0], CATALOG_PK, popular_pk(), similar_pk("sku"), "META", LISTS_TABLES_PK):
            assert not any(fnmatch.fnmatchcase(foreign, p) for p in patterns), (table, foreign)


def test_the_export_function_reads_one_shoppers_rows_and_the_pointer_by_partition_key(
    resources: dict[str, Any],
) -> None:
    # Given the export function's statements and the keys it reads and writes (recs.store_layout)
    statements = {
        s["Sid"]: s
        for p in resources["ExportFunction"]["Properties"]["Policies"]
        for s in p.get("Statement", [])
    }
    used = {
        "ModelTable": [POINTER_KEY[0], user_pk("p"), purchased_pk("p")],
        "StateTable": [
            preference_key("p")[0],
            session_key("p")[0],
            export_key("r")[0],
            tombstone_key("t")[0],
        ],
    }
    tables = [s for s in statements.values() if s["Action"][0].startswith("dynamodb:")]
    assert len(tables) == 2
    for statement in tables:
        (table,) = _targets(statement["Resource"])
        # Then every statement is limited by partition key, and lets through every key it needs
        patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert all(any(fnmatch.fnmatchcase(key, p) for p in patterns) for key in used[table]), table
        # And none of the shop-wide lists, the catalog, a version's META or erasure receipts
        for foreign in (CATALOG_PK, popular_pk(), similar_pk("sku"), "META", erasure_key("r")[0]):
            assert not any(fnmatch.fnmatchcase(foreign, p) for p in patterns), (table, foreign)
    # And the lake is read under its events prefix only, never written
    lake = statements["ReadLakeObjects"]
    assert lake["Action"] == "s3:GetObject"
    assert lake["Resource"] == {"Fn::Sub": "${EventLakeBucket.Arn}/events/*"}


def test_the_prepare_function_reaches_artifacts_and_rows_by_the_keys_it_uses(
    resources: dict[str, Any],
) -> None:
    # Given the prepare function's statements on the artifact bucket and the model table
    statements = [
        s for p in resources["PrepareFunction"]["Properties"]["Policies"] for s in p.get("Statement", [])
    ]
    objects: dict[str, set[str]] = {}
    for statement in statements:
        resource = statement["Resource"]
        if (
            isinstance(resource, dict)
            and "Fn::Sub" in resource
            and "${ArtifactBucket.Arn}/" in resource["Fn::Sub"]
        ):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            pattern = resource["Fn::Sub"].removeprefix("${ArtifactBucket.Arn}/")
            objects.setdefault(pattern, set()).update(actions)
    # Then objects: the catalog export read, its decoded days kept (read, written, deleted), the
    # version's prepared arrays written; nothing else of the bucket (no model, no shard, no result)
    assert objects == {
        CATALOG_OBJECT_KEY: {"s3:GetObject"},
        f"{PREPARED_DAYS_PREFIX}*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
        "models/*/prepared/*": {"s3:PutObject"},
    }
    version = paths.prefix("v20261126T030000.000Z-5a1e2f")
    for name in (paths.PREPARED_INTERACTIONS, paths.PREPARED_IDS):
        assert fnmatch.fnmatchcase(version + name, "models/*/prepared/*")
    assert not fnmatch.fnmatchcase(version + paths.MODEL, "models/*/prepared/*")
    # And it lists only where it reads: the catalog export and its decoded days
    (listing,) = [
        s
        for s in statements
        if s["Action"] == "s3:ListBucket" and _targets(s["Resource"]) == {"ArtifactBucket"}
    ]
    assert listing["Condition"] == {
        "StringLike": {"s3:prefix": [CATALOG_OBJECT_KEY, f"{PREPARED_DAYS_PREFIX}*"]}
    }
    # And of the model table only the version's META row (get, then put), by partition key
    (rows,) = [s for s in statements if _targets(s["Resource"]) == {"ModelTable"}]
    patterns = rows["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert any(fnmatch.fnmatchcase(version_meta_key("v1")[0], p) for p in patterns)
    for foreign in (
        POINTER_KEY[0],
        CATALOG_PK,
        popular_pk(),
        similar_pk("sku"),
        user_pk("p"),
        purchased_pk("p"),
    ):
        assert not any(fnmatch.fnmatchcase(foreign, p) for p in patterns), foreign


def test_the_firehose_role_writes_only_the_lake_reads_its_schema_and_logs_its_errors(
    resources: dict[str, Any],
) -> None:
    role = resources["DeliveryStreamRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    lake = [s for s in statements if _targets(s["Resource"]) == {"EventLakeBucket"}]
    # The conversion's schema: read-only Glue actions on the lake's catalog, database and table
    (schema,) = [s for s in statements if _targets(s["Resource"]) == {"EventLakeDatabase"}]
    assert schema["Action"] == ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
    assert [str(r["Fn::Sub"]).rsplit(":", 1)[-1] for r in schema["Resource"]] == [
        "catalog",
        "database/${EventLakeDatabase}",
        "table/${EventLakeDatabase}/events",
    ]
    logs = [s for s in statements if s not in lake and s is not schema]
    assert lake
    # The error log: one action, on its own stream of its own group
    assert [(s["Action"], _targets(s["Resource"])) for s in logs] == [
        ("logs:PutLogEvents", {"FirehoseLogGroup", "FirehoseDeliveryLogStream"})
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]


def test_the_admin_function_reaches_only_the_rules_and_their_audit(resources: dict[str, Any]) -> None:
    # Given the admin function's statements and the keys it reads and writes (recs.store_layout)
    (statement,) = [
        s for p in resources["AdminFunction"]["Properties"]["Policies"] for s in p.get("Statement", [])
    ]
    patterns = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    # Then it lets through the rules row and the audit partition
    for key in (RULES_KEY[0], rule_audit_key(PINNED_NOW, 1, "r")[0]):
        assert any(fnmatch.fnmatchcase(key, p) for p in patterns), key
    # And no shopper's, erasure's, session's or serving's row
    shoppers = (preference_key("p")[0], session_key("p")[0], erasure_key("r")[0])
    for foreign in (*shoppers, POINTER_KEY[0], CATALOG_PK):
        assert not any(fnmatch.fnmatchcase(foreign, p) for p in patterns), foreign
