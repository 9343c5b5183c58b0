"""The Spark engine in template.yaml: present only with SparkMinInteractions > 0, idle at no
cost, and every right it adds named on this stack's application, role and keys."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

import pytest

from recs.store_layout import CATALOG_PK, POINTER_KEY, popular_pk, user_pk, version_meta_key
from recs.training.publish import artifacts as paths
from recs_tools.checkout import repo_root

SPARK_CONDITION = "SparkEnabled"
#: The Spark engine's own resources.
SPARK_RESOURCES = {"SparkApplication", "SparkJobRole"}
#: A version's prefix in the artifact bucket, for matching key patterns.
VERSION = paths.prefix("v20261126T030000.000Z-5a1e2f")
#: The keys of a Spark run under its version (recs.training.publish.artifacts).
JOB_SCRIPT = VERSION + paths.SPARK_JOB
INPUTS = [VERSION + paths.spark_input_key(part) for part in ("full", "holdout")]
FACTOR_FILES = [
    VERSION + paths.spark_factors_prefix(part, side) + name
    for part in ("full", "holdout")
    for side in ("users", "items")
    for name in ("part-00000-1f2e.snappy.parquet", "_SUCCESS")
]
FACTOR_ARRAYS = VERSION + paths.SPARK_FACTORS_ARRAYS
#: Keys of the version no Spark right may write: the model, its ids, the evaluation, the shards.
FOREIGN_KEYS = [
    VERSION + name
    for name in (paths.MODEL, paths.MODEL_IDS, paths.EVALUATION, paths.SHARD_MANIFEST, paths.PREPARED_IDS)
]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditional_statements(policies: list[Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(condition, statements) of each policy given only under a condition."""
    found = []
    for policy in policies:
        if "Fn::If" in policy:
            condition, granted, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, policy
            found.append((condition, granted["Statement"]))
    return found


def _spark_statements(resources: dict[str, Any], logical_id: str) -> dict[str, dict[str, Any]]:
    """The resource's statements given only in a stack with Spark, by Sid."""
    found = _conditional_statements(resources[logical_id]["Properties"]["Policies"])
    ((_, statements),) = [(c, s) for c, s in found if c == SPARK_CONDITION]
    return {s["Sid"]: s for s in statements}


def _key_patterns(resource: Any, bucket: str = "ArtifactBucket") -> list[str]:
    """The object key patterns a statement's Resource names in ``bucket``."""
    patterns = []
    for item in _listed(resource):
        text = item["Fn::Sub"]
        assert text.startswith(f"${{{bucket}.Arn}}/"), text
        patterns.append(text.removeprefix(f"${{{bucket}.Arn}}/"))
    return patterns


def _matches(key: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def _references(
    value: Any, guarded: bool = False, guard: str = SPARK_CONDITION
) -> Iterator[tuple[str, bool]]:
    """Every logical id ``value`` refers to (Ref, GetAtt, Sub), and whether an
    ``Fn::If [<guard>, ...]``'s true branch (SparkEnabled unless told) holds the reference."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item, guarded, guard)
    elif isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            yield from _references(when_true, guarded or condition == guard, guard)
            yield from _references(when_false, guarded, guard)
            return
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item, guarded
            elif key == "Fn::GetAtt":
                yield (item[0] if isinstance(item, list) else item.split(".")[0]), guarded
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                for name in re.findall(r"\$\{([^}!]+)\}", text):
                    yield name.split(".")[0], guarded
                if isinstance(item, list):
                    yield from _references(item[1], guarded, guard)
            else:
                yield from _references(item, guarded, guard)


def test_the_spark_resources_exist_only_in_a_stack_with_spark(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the condition and the engine's resources
    assert template["Conditions"][SPARK_CONDITION] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SparkMinInteractions"}, 0]}]
    }
    spark = {n for n, r in resources.items() if r["Type"].startswith("AWS::EMRServerless::")}
    assert spark == {"SparkApplication"}
    parameter = template["Parameters"]["SparkMinInteractions"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    # Then each exists only under the condition
    for name in SPARK_RESOURCES:
        assert resources[name].get("Condition") == SPARK_CONDITION, name
    # And every other resource or output names them only inside Fn::If [SparkEnabled, ...]
    for name, resource in {**resources, **template.get("Outputs", {})}.items():
        if resource.get("Condition") == SPARK_CONDITION:
            continue
        unguarded = {ref for ref, guarded in _references(resource) if ref in SPARK_RESOURCES and not guarded}
        assert not unguarded, (name, unguarded)


def test_the_application_costs_nothing_idle_and_at_most_its_capacity_in_a_run(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the Spark application
    application = resources["SparkApplication"]["Properties"]
    # Then it is a Spark application of the configured release, with no capacity held between
    # runs: started by a job, stopped soon after
    assert application["Type"] == "SPARK"
    assert application["ReleaseLabel"] == {"Ref": "SparkReleaseLabel"}
    assert "InitialCapacity" not in application
    assert application["AutoStartConfiguration"] == {"Enabled": True}
    assert application["AutoStopConfiguration"]["Enabled"] is True
    assert application["AutoStopConfiguration"]["IdleTimeoutMinutes"] <= 15
    # And a run is bounded by the stack's maximum capacity
    assert application["MaximumCapacity"] == {
        "Cpu": {"Fn::Sub": "${SparkMaximumVcpu} vCPU"},
        "Memory": {"Fn::Sub": "${SparkMaximumMemoryGB} GB"},
    }
    # And it reaches no VPC (S3 only)
    assert "NetworkConfiguration" not in application
    # And the default release runs Spark 3.5 (EMR 7)
    release = template["Parameters"]["SparkReleaseLabel"]
    assert re.fullmatch(release["AllowedPattern"], release["Default"])
    assert release["Default"].startswith("emr-7.")


def test_the_spark_submit_options_cannot_break_the_workflows_json(template: dict[str, Any]) -> None:
    # Given the parameter substituted into the definition as a JSON string
    parameter = template["Parameters"]["SparkSubmitParameters"]
    pattern = parameter["AllowedPattern"]
    # Then the default passes and neither a double quote nor a backslash can
    assert re.fullmatch(pattern, parameter["Default"])
    assert "spark.dynamicAllocation.maxExecutors" in parameter["Default"]
    for bad in ('--conf a="b"', "--conf a=b\\", '", "ExecutionRoleArn": "arn'):
        assert not re.fullmatch(pattern, bad), bad


def test_the_workflow_names_the_application_and_role_only_in_a_stack_with_spark(
    resources: dict[str, Any],
) -> None:
    # Given the state machine's substitutions and the definition's placeholders
    machine = resources["TrainingStateMachine"]["Properties"]
    substitutions = machine["DefinitionSubstitutions"]
    definition = (repo_root() / machine["DefinitionUri"]).read_text(encoding="utf-8")
    # Then every placeholder of the definition has a substitution
    assert set(re.findall(r"\$\{(\w+)\}", definition)) <= set(substitutions)
    # And the Spark ones name the application and role in a stack with Spark, "none" without
    assert substitutions["SparkApplicationId"] == {
        "Fn::If": [SPARK_CONDITION, {"Fn::GetAtt": ["SparkApplication", "ApplicationId"]}, "none"]
    }
    assert substitutions["SparkJobRoleArn"] == {
        "Fn::If": [SPARK_CONDITION, {"Fn::GetAtt": ["SparkJobRole", "Arn"]}, "none"]
    }
    assert substitutions["SparkSubmitParameters"] == {"Ref": "SparkSubmitParameters"}


def test_the_workflow_runs_jobs_on_its_application_and_passes_the_role_to_emr_serverless_only(
    resources: dict[str, Any],
) -> None:
    # Given the state machine's statements given only in a stack with Spark
    statements = _spark_statements(resources, "TrainingStateMachine")
    grants = {
        action: (statement["Resource"], statement.get("Condition"))
        for statement in statements.values()
        for action in _listed(statement["Action"])
    }
    # Then (AWS's policy for startJobRun.sync) a job starts on this stack's application, its runs
    # are followed and cancelled there, and nothing else of EMR Serverless is allowed
    assert grants["emr-serverless:StartJobRun"] == ({"Fn::GetAtt": ["SparkApplication", "Arn"]}, None)
    runs = ({"Fn::Sub": "${SparkApplication.Arn}/jobruns/*"}, None)
    assert grants["emr-serverless:GetJobRun"] == runs
    assert grants["emr-serverless:CancelJobRun"] == runs
    # And the .sync integration's managed EventBridge rule, by its fixed name, in this account
    rule = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
        "StepFunctionsGetEventsForEMRServerlessJobRule"
    }
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        assert grants[action] == (rule, None), action
    # And the job role is passed, to EMR Serverless only
    assert grants["iam:PassRole"] == (
        {"Fn::GetAtt": ["SparkJobRole", "Arn"]},
        {"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}},
    )
    # And nothing more, on no "*" (every action here has resource-level permissions)
    assert set(grants) == {
        "emr-serverless:StartJobRun",
        "emr-serverless:GetJobRun",
        "emr-serverless:CancelJobRun",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
        "iam:PassRole",
    }
    assert all(resource != "*" for resource, _ in grants.values())


def test_only_emr_serverless_assumes_the_job_role_for_this_stacks_application(
    resources: dict[str, Any],
) -> None:
    # Given the job role's trust policy
    role = resources["SparkJobRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # Then only EMR Serverless assumes it, for this account's application of this stack
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": ["SparkApplication", "Arn"]}},
    }
    # And it has no managed policy, no boundary to widen and no other service's principal
    assert "ManagedPolicyArns" not in role


def test_the_job_reads_its_script_and_input_and_writes_only_its_factors(resources: dict[str, Any]) -> None:
    # Given the job role's statements, all on the artifact bucket
    role = resources["SparkJobRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    by_action: dict[str, list[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _listed(statement["Action"]):
            assert action.startswith("s3:"), action
            if action == "s3:ListBucket":
                assert statement["Resource"] == {"Fn::GetAtt": ["ArtifactBucket", "Arn"]}
                # Listing is limited to keys under models/ (Spark lists its input and output)
                assert statement["Condition"] == {"StringLike": {"s3:prefix": ["models/*"]}}
                continue
            by_action.setdefault(action, []).extend(_key_patterns(statement["Resource"]))
    # Then it reads the job's script, its input and its factors (Spark reads back what it wrote)
    for key in (JOB_SCRIPT, *INPUTS, *FACTOR_FILES):
        assert _matches(key, by_action["s3:GetObject"]), key
    # And it writes, replaces and aborts uploads of its factors' files, and nothing else
    writes = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    assert set(by_action) == {"s3:GetObject"} | writes
    for action in writes:
        assert by_action[action] == ["models/*/spark/factors/*"], action
        for key in FACTOR_FILES:
            assert _matches(key, by_action[action]), (action, key)
        for key in (JOB_SCRIPT, *INPUTS, FACTOR_ARRAYS, *FOREIGN_KEYS, "catalog/products.jsonl"):
            assert not _matches(key, by_action[action]), (action, key)
    # And it reads nothing of a version outside spark/ (no model, ids or evaluation)
    for key in FOREIGN_KEYS:
        assert not _matches(key, by_action["s3:GetObject"]), key


def test_prepare_gets_the_spark_paths_rights_only_in_a_stack_with_spark(resources: dict[str, Any]) -> None:
    # Given the prepare function's statements given only in a stack with Spark
    statements = _spark_statements(resources, "PrepareFunction")
    # Then Prepare writes the job's script and input, and ImportFactors the factors' matrices
    writes = _key_patterns(statements["SparkJobAndInput"]["Resource"])
    assert statements["SparkJobAndInput"]["Action"] == "s3:PutObject"
    for key in (JOB_SCRIPT, *INPUTS, FACTOR_ARRAYS):
        assert _matches(key, writes), key
    # And never what the job writes, nor anything else of the version
    for key in (*FACTOR_FILES, *FOREIGN_KEYS):
        assert not _matches(key, writes), key
    # And ImportFactors lists and reads the job's factors only
    reads = _key_patterns(statements["SparkFactors"]["Resource"])
    assert statements["SparkFactors"]["Action"] == "s3:GetObject"
    assert all(_matches(key, reads) for key in FACTOR_FILES)
    assert not any(_matches(key, reads) for key in (JOB_SCRIPT, *INPUTS, *FOREIGN_KEYS))
    listing = statements["ListSparkFactors"]
    assert listing["Action"] == "s3:ListBucket"
    (prefixes,) = listing["Condition"]["StringLike"].values()
    for part in ("full", "holdout"):
        for side in ("users", "items"):
            assert _matches(VERSION + paths.spark_factors_prefix(part, side), prefixes)
    # And of the model table the pointer row (which version serves: its choice is reused)
    pointer = statements["ServingVersionPointer"]
    assert pointer["Action"] == "dynamodb:GetItem"
    patterns = pointer["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert _matches(POINTER_KEY[0], patterns)
    for foreign in (version_meta_key("v1")[0], CATALOG_PK, popular_pk(), user_pk("p")):
        assert not _matches(foreign, patterns), foreign


def _loads_train_settings(resource: dict[str, Any]) -> bool:
    properties = resource["Properties"]
    module = properties["Handler"].rsplit(".", 1)[0].replace(".", "/")
    source = (repo_root() / properties["CodeUri"] / f"{module}.py").read_text(encoding="utf-8")
    return "TrainSettings" in source


@pytest.mark.parametrize("variable", ["SPARK_MIN_INTERACTIONS"])
def test_every_function_loading_train_settings_gets_the_same_spark_threshold(
    variable: str, resources: dict[str, Any]
) -> None:
    # Given the functions whose handler loads TrainSettings
    functions = {n: r for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    training = {n for n, r in functions.items() if _loads_train_settings(r)}
    assert training >= {"PrepareFunction", "TrainFunction", "PublishFunction"}
    # Then each has the stack's threshold, and no other function has it
    for name, resource in functions.items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        if name in training:
            assert variables.get(variable) == {"Ref": "SparkMinInteractions"}, name
        else:
            assert variable not in variables, name
