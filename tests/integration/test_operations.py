"""Log retention and alarms, as template.yaml declares them and the local stack provisions them."""

from __future__ import annotations

import json
from typing import Any

from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template
from recs_tools.local.stack import LocalStack


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template(repo_root() / "template.yaml")["Resources"]
    return resources


def test_every_function_logs_to_its_own_group_with_the_stages_retention(stack: LocalStack) -> None:
    # Given the functions of template.yaml
    resources = _resources()
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    # When their log groups are looked up in the local stack (stage dev)
    logs = stack.client("logs")
    groups = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in logs.describe_log_groups(logGroupNamePrefix="/recs/")["logGroups"]
    }
    # Then each function names a log group of its own, and each group keeps logs 7 days in dev
    targets = [resources[f]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in functions]
    assert len(set(targets)) == len(functions)
    for target in targets:
        assert resources[target]["Type"] == "AWS::Logs::LogGroup"
        assert groups[stack.physical[target]] == 7


def test_every_alarm_notifies_the_alerts_topic_and_watches_a_resource_of_this_stack(
    stack: LocalStack,
) -> None:
    # Given the alarms the local stack created from template.yaml
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    topic = stack.physical["TrainingAlertsTopic"]
    created = {str(value) for value in [*stack.physical.values(), *stack.resolver.refs.values()]}
    # Then there is one per alarm of the template, each notifying the alerts topic
    expected = [name for name, r in _resources().items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert sorted(a["AlarmName"] for a in alarms) == sorted(stack.physical[name] for name in expected)
    # (a function's own metrics carry its service name: POWERTOOLS_SERVICE_NAME)
    services = {str(f.environment.get("POWERTOOLS_SERVICE_NAME")) for f in stack.functions.values()}
    quiet = {
        stack.physical[name]
        for name, r in _resources().items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("ActionsEnabled") is False
    }
    for alarm in alarms:
        # (a burn-rate window notifies through its composite alarm, which moto cannot create)
        assert alarm["AlarmActions"] == ([] if alarm["AlarmName"] in quiet else [topic])
        # and every dimension points at something this stack created (a function, the API, the
        # stream, a table) or at one of its functions' service names
        dimensions = alarm.get("Dimensions", []) + [
            d
            for m in alarm.get("Metrics", [])
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
        ]
        assert dimensions
        for dimension in dimensions:
            if dimension["Name"] == "service":
                assert dimension["Value"] in services, dimension
            elif dimension["Name"] != "cache":
                assert dimension["Value"] in created, dimension


def test_the_alerts_topic_is_encrypted_with_a_key_cloudwatch_may_use(stack: LocalStack) -> None:
    # Given the alerts topic and its key, as the local stack built them from template.yaml
    topic = stack.client("sns").get_topic_attributes(TopicArn=stack.physical["TrainingAlertsTopic"])
    key = stack.physical["AlertsKey"]
    policy = json.loads(stack.client("kms").get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    # Then the topic is encrypted with that customer managed key (alarms cannot use alias/aws/sns)
    assert topic["Attributes"]["KmsMasterKeyId"] == key
    # And the key lets CloudWatch alarms of this account encrypt messages for it, and rotates
    (grant,) = [
        s for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": stack.resolver.account_id}}
    assert stack.client("kms").get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
