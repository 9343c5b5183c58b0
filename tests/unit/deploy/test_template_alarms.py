"""template.yaml's alarms (each to the alerts topic) and the operations dashboard."""

from __future__ import annotations

import json
from typing import Any

from recs_tools.local.cfn import Resolver, parameter_defaults

_TOPIC = [{"Ref": "TrainingAlertsTopic"}]


def _alarms(resources: dict[str, Any]) -> dict[str, Any]:
    return {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}


def test_every_alarm_notifies_the_alerts_topic(resources: dict[str, Any]) -> None:
    # Given the template's alarms
    alarms = _alarms(resources)
    # Then there is at least one per failure the issue names, each notifying the topic
    assert len(alarms) >= 9
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == _TOPIC


def test_api_error_rate_above_one_percent(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["ApiServerErrorRateAlarm"]
    # Then it compares the 5xx share of the API's requests, in percent, with 1
    expression = next(m for m in alarm["Metrics"] if m.get("ReturnData"))["Expression"]
    assert "100 * errors / requests" in expression
    assert _metric_names(alarm) == {"5xx", "Count"}
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 1)


def test_recommend_p95_above_50_ms(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["RecommendLatencyAlarm"]
    assert (alarm["MetricName"], alarm["ExtendedStatistic"]) == ("Duration", "p95")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "RecommendFunction"}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 50)


def test_a_failed_timed_out_or_aborted_training_run(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["TrainingFailedAlarm"]
    # Then it sums the three unsuccessful outcomes of the training state machine
    assert _metric_names(alarm) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    for metric in (m for m in alarm["Metrics"] if "MetricStat" in m):
        dimensions = metric["MetricStat"]["Metric"]["Dimensions"]
        assert dimensions == [{"Name": "StateMachineArn", "Value": {"Ref": "TrainingStateMachine"}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_no_successful_training_in_36_hours(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["TrainingStaleAlarm"]
    # Then it counts successes over 36 hours and an hour without any data counts against it
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/States",
        "ExecutionsSucceeded",
        "Sum",
    )
    assert alarm["Period"] * alarm["DatapointsToAlarm"] == 36 * 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    # and stays inside CloudWatch's limit (7 days of evaluation for periods of an hour or more)
    assert alarm["Period"] >= 3600
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 7 * 86400


def test_firehose_delivery_failures_and_lag(resources: dict[str, Any]) -> None:
    alarms = _alarms(resources)
    failure, lag = alarms["LakeDeliveryFailureAlarm"], alarms["LakeDeliveryFreshnessAlarm"]
    stream = [{"Name": "DeliveryStreamName", "Value": {"Ref": "EventDeliveryStream"}}]
    assert (failure["MetricName"], failure["ComparisonOperator"], failure["Threshold"]) == (
        "DeliveryToS3.Success",
        "LessThanThreshold",
        1,
    )
    assert lag["MetricName"] == "DeliveryToS3.DataFreshness"
    assert failure["Dimensions"] == stream == lag["Dimensions"]


def _dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's JSON with the stack's names filled in, as CloudFormation would."""
    resolver = Resolver(
        region="eu-west-1",
        account_id="123456789012",
        stack_name="recs-test",
        parameters=parameter_defaults(template),
        refs={
            "RecommendFunction": "recs-test-recommend",
            "HttpApi": "abc123",
            "EventDeliveryStream": "recs-test-events",
            "TrainingStateMachine": "arn:aws:states:eu-west-1:123456789012:stateMachine:recs-test-training",
        },
    )
    properties = template["Resources"]["OperationsDashboard"]["Properties"]
    body: dict[str, Any] = json.loads(resolver.resolve(properties["DashboardBody"]))
    return body


def test_the_dashboard_shows_the_requirements_figures(template: dict[str, Any]) -> None:
    # Given the dashboard's body as deployed
    widgets = _dashboard_body(template)["widgets"]
    titles = " | ".join(w["properties"].get("title", "") for w in widgets)
    metrics = {
        line[1] for w in widgets for line in w["properties"].get("metrics", []) if isinstance(line[0], str)
    }
    annotations = {
        a["value"] for w in widgets for a in w["properties"].get("annotations", {}).get("horizontal", [])
    }
    # Then it charts latency against 50 ms, errors against 1%, availability against 99.9%,
    # traffic and ingest volume, training outcome and duration, and lake delivery
    for figure in ("latency", "error rate", "availability", "ingest volume", "Training duration"):
        assert figure in titles
    assert {50, 1} <= annotations
    assert {"Duration", "5xx", "Count", "EventsAccepted", "IncomingRecords"} <= metrics
    assert {"ExecutionsSucceeded", "ExecutionsFailed", "ExecutionTime", "DeliveryToS3.Success"} <= metrics
    # And every widget fits the 24-column grid
    assert all(w["x"] + w["width"] <= 24 for w in widgets)
