"""The container engine in template.yaml: present only with ContainerMinInteractions > 0, refused
without an image and a network, sized within Fargate, and every right it adds named on this
stack's queue, job definition, log group, bucket prefix and table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from recs.config.train import TrainSettings
from recs.store_layout import POINTER_KEY, version_meta_key
from recs.training.publish import artifacts as paths
from recs.wiring.train_container import JOB_VARIABLE
from recs_tools.checkout import repo_root
from tests.unit.deploy.test_samconfig import _failed_rules
from tests.unit.deploy.test_template_spark import _conditional_statements, _listed, _references

CONTAINER_CONDITION = "ContainerEnabled"
CONTAINER_RESOURCES = {
    "TrainingContainerSecurityGroup",
    "TrainingComputeEnvironment",
    "TrainingJobQueue",
    "TrainingContainerLogGroup",
    "TrainingJobDefinition",
    "TrainingJobExecutionRole",
    "TrainingJobRole",
}
#: Fargate's memory (MiB) per vCPU count (AWS Batch user guide, "Fargate").
FARGATE_MEMORY = {
    "4": range(8192, 30721, 1024),
    "8": range(16384, 61441, 4096),
    "16": range(32768, 122881, 8192),
}


def _statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The role's statements in every stack with it (its policies under a further condition aside)."""
    return {
        s["Sid"]: s
        for policy in role["Properties"]["Policies"]
        if "Fn::If" not in policy
        for s in policy["PolicyDocument"]["Statement"]
    }


def test_the_container_resources_exist_only_in_a_stack_with_the_engine(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the condition and the threshold, off by default
    assert template["Conditions"][CONTAINER_CONDITION] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ContainerMinInteractions"}, 0]}]
    }
    parameter = template["Parameters"]["ContainerMinInteractions"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"]) == ("Number", 0, 0)
    # Then every Batch resource of the engine, its network and roles exist only under the condition
    batch = {n for n, r in resources.items() if r["Type"].startswith("AWS::Batch::")}
    assert batch <= CONTAINER_RESOURCES
    for name in CONTAINER_RESOURCES:
        assert resources[name].get("Condition") == CONTAINER_CONDITION, name
    # And every other resource names them only inside Fn::If [ContainerEnabled, ...]
    for name, resource in {**resources, **template.get("Outputs", {})}.items():
        if resource.get("Condition") == CONTAINER_CONDITION:
            continue
        unguarded = {
            ref
            for ref, guarded in _references(resource, guard=CONTAINER_CONDITION)
            if ref in CONTAINER_RESOURCES and not guarded
        }
        assert not unguarded, (name, unguarded)


def test_the_engine_is_refused_without_an_image_and_a_network(template: dict[str, Any]) -> None:
    # Given the container engine switched on with nothing else
    failed = _failed_rules(template, {"ContainerMinInteractions": "5000000"})
    # Then CloudFormation refuses the deploy, naming each missing parameter
    assert failed == [
        "ContainerMinInteractions > 0 needs TrainingImageUri (make image pushes one).",
        "ContainerMinInteractions > 0 needs ContainerVpcId.",
        "ContainerMinInteractions > 0 needs ContainerSubnetIds.",
    ]
    # And with them the deploy is accepted; without the engine none of them is asked for
    complete = {
        "ContainerMinInteractions": "5000000",
        "TrainingImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs-training:1",
        "ContainerVpcId": "vpc-0123456789abcdef0",
        "ContainerSubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    }
    assert _failed_rules(template, complete) == []
    assert _failed_rules(template, {}) == []


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("", True),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs-training:2026-12-06", True),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs/training@sha256:" + "a" * 64, True),
        ("docker.io/library/python:3.12-slim", False),  # not this account's ECR
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/recs-training", False),  # no tag or digest
        ('123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1", "Command": "sh', False),
    ],
)
def test_the_image_is_an_ecr_image_by_tag_or_digest(
    template: dict[str, Any], uri: str, allowed: bool
) -> None:
    # Given the image parameter's pattern / Then only an ECR image with a tag or digest passes
    pattern = template["Parameters"]["TrainingImageUri"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, uri)) is allowed


def test_the_default_size_is_fargates_largest_and_every_default_is_a_valid_fargate_size(
    template: dict[str, Any],
) -> None:
    # Given the size parameters
    vcpu = template["Parameters"]["ContainerVcpu"]
    memory = template["Parameters"]["ContainerMemoryMiB"]
    # Then the default is 16 vCPU / 120 GB, a size Fargate runs
    assert (vcpu["Default"], memory["Default"]) == ("16", 122880)
    assert memory["Default"] in FARGATE_MEMORY[vcpu["Default"]]
    # And every vCPU choice has sizes Fargate runs within the memory bounds
    for choice in vcpu["AllowedValues"]:
        sizes = FARGATE_MEMORY[choice]
        assert memory["MinValue"] <= sizes[-1], choice
        assert sizes[0] <= memory["MaxValue"], choice


def test_the_job_runs_the_entry_point_on_fargate_with_the_training_functions_settings(
    resources: dict[str, Any],
) -> None:
    # Given the job definition
    definition = resources["TrainingJobDefinition"]["Properties"]
    container = definition["ContainerProperties"]
    # Then it runs the entry point from the stack's image, on Fargate, at the stack's size
    assert definition["PlatformCapabilities"] == ["FARGATE"]
    assert container["Image"] == {"Ref": "TrainingImageUri"}
    assert container["Command"] == ["python", "-m", "recs.wiring.train_container"]
    assert {r["Type"]: r["Value"] for r in container["ResourceRequirements"]} == {
        "VCPU": {"Ref": "ContainerVcpu"},
        "MEMORY": {"Ref": "ContainerMemoryMiB"},
    }
    assert container["JobRoleArn"] == {"Fn::GetAtt": ["TrainingJobRole", "Arn"]}
    assert container["ExecutionRoleArn"] == {"Fn::GetAtt": ["TrainingJobExecutionRole", "Arn"]}
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "TrainingContainerLogGroup"}
    # And its environment sets every setting the training code requires, not the job itself
    # (the state machine passes that) nor a cache (train and evaluate never use it)
    environment = {item["Name"]: item["Value"] for item in container["Environment"]}
    required = {name.upper() for name, field in TrainSettings.model_fields.items() if field.is_required()}
    assert required <= set(environment)
    assert JOB_VARIABLE not in environment
    assert environment["CACHE_URL"] == ""
    # And it stops before the workflow's own timeout for the task would (which terminates it)
    definition_json = (repo_root() / "infra/statemachines/training.asl.json").read_text(encoding="utf-8")
    timeout = int(re.search(r'"TrainInContainer": \{.*?"TimeoutSeconds": (\d+)', definition_json, re.S)[1])  # type: ignore[index]
    assert 0 < definition["Timeout"]["AttemptDurationSeconds"] <= timeout
    assert definition["RetryStrategy"] == {"Attempts": 1}


def test_the_log_group_keeps_logs_for_the_stages_retention(resources: dict[str, Any]) -> None:
    # Given the container's log group / Then it is the stack's, kept as long as the functions' logs
    group = resources["TrainingContainerLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/recs/${AWS::StackName}/train-container"}
    assert group["RetentionInDays"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
    }


def test_the_network_lets_nothing_in_and_only_https_out(resources: dict[str, Any]) -> None:
    # Given the security group and the compute environment
    group = resources["TrainingContainerSecurityGroup"]["Properties"]
    compute = resources["TrainingComputeEnvironment"]["Properties"]["ComputeResources"]
    # Then nothing comes in and only HTTPS goes out
    assert "SecurityGroupIngress" not in group
    (egress,) = group["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    # And the environment runs Fargate tasks in the stack's subnets, one job's vCPUs at most
    assert compute["Type"] == "FARGATE"
    assert compute["Subnets"] == {"Ref": "ContainerSubnetIds"}
    assert compute["SecurityGroupIds"] == [{"Ref": "TrainingContainerSecurityGroup"}]
    assert compute["MaxvCpus"] == {"Ref": "ContainerVcpu"}


def test_only_ecs_tasks_of_this_account_assume_the_container_roles(resources: dict[str, Any]) -> None:
    for name in ("TrainingJobRole", "TrainingJobExecutionRole"):
        # Given each role's trust policy / Then only ECS tasks assume it, for this account
        role = resources[name]["Properties"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}, name
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}, name
        assert "ManagedPolicyArns" not in role, name


def test_the_job_reads_the_prepared_window_and_writes_the_versions_artifacts_and_meta_only(
    resources: dict[str, Any],
) -> None:
    # Given the job role's statements
    statements = _statements(resources["TrainingJobRole"])
    # Then it reads the versions' prepared windows only, and writes their model, shards,
    # evaluation and the container's result only (never the lake, the catalog, a deletion)
    assert statements["PreparedWindow"]["Action"] == "s3:GetObject"
    assert statements["PreparedWindow"]["Resource"] == {
        "Fn::Sub": "${ArtifactBucket.Arn}/models/*/prepared/*"
    }
    written = [
        r["Fn::Sub"].removeprefix("${ArtifactBucket.Arn}/")
        for r in statements["VersionArtifacts"]["Resource"]
    ]
    assert written == [
        "models/*/model/*",
        "models/*/shards/*",
        f"models/*/{paths.EVALUATION}",
        "models/*/container/*",
    ]
    assert paths.CONTAINER_RESULT.startswith("container/")
    # And of the model table, the pointer and META rows read and META rows written, by partition key
    table = {"Fn::GetAtt": ["ModelTable", "Arn"]}
    reads, writes = statements["ReadPointerAndVersions"], statements["WriteVersionMeta"]
    assert (reads["Action"], reads["Resource"]) == ("dynamodb:GetItem", table)
    assert reads["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [POINTER_KEY[0], version_meta_key("*")[0]]}
    }
    assert (writes["Action"], writes["Resource"]) == ("dynamodb:PutItem", table)
    assert writes["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [version_meta_key("*")[0]]}
    }
    # And nothing else: no listing, no secret, no state table, no lists tables, no "*"
    actions = {action for statement in statements.values() for action in _listed(statement["Action"])}
    assert actions == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    assert all(statement["Resource"] != "*" for statement in statements.values())


def test_the_execution_role_pulls_this_accounts_images_and_writes_its_log_only(
    resources: dict[str, Any],
) -> None:
    statements = _statements(resources["TrainingJobExecutionRole"])
    grants = {
        action: statement["Resource"]
        for statement in statements.values()
        for action in _listed(statement["Action"])
    }
    # Then the registry login is the only "*" (it has no resource-level permission)
    assert [a for a, r in grants.items() if r == "*"] == ["ecr:GetAuthorizationToken"]
    # And images come from this account's repositories, logs go to the container's group only
    repositories = {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}
    for action in ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
        assert grants[action] == repositories, action
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert grants[action] == {"Fn::GetAtt": ["TrainingContainerLogGroup", "Arn"]}, action


def test_the_workflow_submits_this_stacks_job_only_and_passes_no_role(resources: dict[str, Any]) -> None:
    # Given the state machine's statements given only in a stack with the container engine
    machine = resources["TrainingStateMachine"]["Properties"]
    found = _conditional_statements(machine["Policies"])
    ((_, statements),) = [(c, s) for c, s in found if c == CONTAINER_CONDITION]
    grants = {action: s["Resource"] for s in statements for action in _listed(s["Action"])}
    # Then a job is submitted to this stack's queue with this stack's job definition only
    assert grants["batch:SubmitJob"] == [
        {"Ref": "TrainingJobQueue"},
        {
            "Fn::Sub": "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job-definition/"
            "${AWS::StackName}-training:*"
        },
    ]
    assert resources["TrainingJobDefinition"]["Properties"]["JobDefinitionName"] == {
        "Fn::Sub": "${AWS::StackName}-training"
    }
    # And followed (DescribeJobs has no resource-level permission: "*") and terminated (jobs of
    # this account and region), through the .sync integration's managed EventBridge rule for
    # Batch, by its fixed name
    assert grants["batch:DescribeJobs"] == "*"
    assert grants["batch:TerminateJob"] == {
        "Fn::Sub": "arn:${AWS::Partition}:batch:${AWS::Region}:${AWS::AccountId}:job/*"
    }
    rule = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
        "StepFunctionsGetEventsForBatchJobsRule"
    }
    for action in ("events:PutTargets", "events:PutRule", "events:DescribeRule"):
        assert grants[action] == rule, action
    # And nothing more: no iam:PassRole (the job definition names its roles)
    assert set(grants) == {
        "batch:SubmitJob",
        "batch:DescribeJobs",
        "batch:TerminateJob",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    }
    # And the definition names the queue and job definition only in a stack with the engine
    substitutions = machine["DefinitionSubstitutions"]
    assert substitutions["TrainingJobQueueArn"] == {
        "Fn::If": [CONTAINER_CONDITION, {"Ref": "TrainingJobQueue"}, "none"]
    }
    assert substitutions["TrainingJobDefinitionArn"] == {
        "Fn::If": [CONTAINER_CONDITION, {"Ref": "TrainingJobDefinition"}, "none"]
    }


def test_prepare_gets_the_container_threshold(resources: dict[str, Any]) -> None:
    # Given the prepare function (it chooses the engine) / Then it reads the stack's threshold
    variables = resources["PrepareFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CONTAINER_MIN_INTERACTIONS"] == {"Ref": "ContainerMinInteractions"}


def test_the_image_runs_the_job_definitions_command_with_the_layers_pins_as_non_root(
    resources: dict[str, Any],
) -> None:
    # Given the Dockerfile (it cannot be built here: no Docker) and the project's pins
    dockerfile = (repo_root() / "infra/container/Dockerfile").read_text(encoding="utf-8")
    pyproject = (repo_root() / "pyproject.toml").read_text(encoding="utf-8")
    # Then its command is the job definition's
    command = resources["TrainingJobDefinition"]["Properties"]["ContainerProperties"]["Command"]
    (cmd,) = re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert json.loads(cmd) == command
    # And it installs the common and science layers' pinned requirements and the runtime package
    assert "COPY layers/common/requirements.txt" in dockerfile
    assert "COPY layers/science/requirements.txt" in dockerfile
    # And the arrow layer's, for Prepare (--step prepare reads the lake with pyarrow)
    assert "COPY layers/arrow/requirements.txt" in dockerfile
    dockerignore = (repo_root() / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "!layers/arrow/requirements.txt" in dockerignore
    assert "COPY layers/common/recs /opt/recs/recs" in dockerfile
    # And boto3 and botocore (the Lambda runtime's, not the layer's) at the project's pins
    for package in ("boto3", "botocore"):
        (pin,) = re.findall(rf'"{package}==([\d.]+)"', pyproject)
        assert f"{package}=={pin}" in dockerfile, package
    # And the job runs as an unprivileged user
    (user,) = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user not in {"root", "0"}
