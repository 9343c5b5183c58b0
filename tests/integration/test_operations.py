"""Log retention and alarms, as template.yaml declares them and the local stack provisions them."""

from __future__ import annotations

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
    for alarm in alarms:
        assert alarm["AlarmActions"] == [topic]
        # and every dimension points at something this stack created (a function, the API, the stream)
        dimensions = alarm.get("Dimensions", []) + [
            d
            for m in alarm.get("Metrics", [])
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
        ]
        assert dimensions
        for dimension in dimensions:
            assert dimension["Value"] in created, dimension
