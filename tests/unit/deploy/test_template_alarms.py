"""template.yaml's alarms (each to the alerts topic) and the operations dashboard."""

from __future__ import annotations

import json
from typing import Any

from recs_tools.checkout import repo_root
from recs_tools.local.cfn import Resolver, parameter_defaults

_TOPIC = [{"Ref": "TrainingAlertsTopic"}]


def _alarms(resources: dict[str, Any]) -> dict[str, Any]:
    return {n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _metric_names(alarm: dict[str, Any]) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}


def _composites(resources: dict[str, Any]) -> dict[str, Any]:
    return {
        n: r["Properties"] for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::CompositeAlarm"
    }


def _returned(alarm: dict[str, Any]) -> dict[str, Any]:
    returned: list[dict[str, Any]] = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    assert len(returned) == 1
    return returned[0]


def test_every_alarm_notifies_the_alerts_topic_and_says_when_it_clears(resources: dict[str, Any]) -> None:
    # Given the template's alarms and composite alarms
    alarms, composites = _alarms(resources), _composites(resources)
    rules = " ".join(c["AlarmRule"]["Fn::Sub"] for c in composites.values())
    # Then there is one per failure the issue names, each notifying the topic when it fires and
    # when it clears, except the burn-rate windows, which notify through their composite alarm
    assert len(alarms) >= 20
    for name, alarm in {**alarms, **composites}.items():
        if alarm.get("ActionsEnabled") is False:
            assert f"${{{name}}}" in rules, name
            assert "AlarmActions" not in alarm
            continue
        assert alarm["AlarmActions"] == _TOPIC, name
        assert alarm["OKActions"] == _TOPIC, name


def test_burn_rate_alarms_pair_a_long_and_a_short_window_above_a_multiple_of_the_budget(
    resources: dict[str, Any],
) -> None:
    # Given the composite burn-rate alarms and their windows
    alarms, composites = _alarms(resources), _composites(resources)
    expected = {
        "ApiFastBurnAlarm": (
            ("ApiFastBurnLongWindowAlarm", 3600),
            ("ApiFastBurnShortWindowAlarm", 300),
            14.4,
        ),
        "ApiSlowBurnAlarm": (("ApiSlowBurnLongWindowAlarm", 21600), ("ApiSlowBurnShortWindowAlarm", 1800), 6),
    }
    assert set(composites) == set(expected)
    for composite, (long, short, burn) in expected.items():
        # Then each fires when both windows are above the burn rate times the 1% budget
        assert composites[composite]["AlarmRule"]["Fn::Sub"] == (
            f'ALARM("${{{long[0]}}}") AND ALARM("${{{short[0]}}}")'
        )
        for window, period in (long, short):
            alarm = alarms[window]
            assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", burn)
            assert {m["MetricStat"]["Period"] for m in alarm["Metrics"] if "MetricStat" in m} == {period}
            assert _metric_names(alarm) == {"5xx", "Count"}
            # And a window with under 50 requests does not count
            assert _returned(alarm)["Expression"] == "IF(requests >= 50, 100 * errors / requests, 0)"


def test_cache_hit_latency_has_its_own_dimension_and_the_50_ms_budget(resources: dict[str, Any]) -> None:
    alarms = _alarms(resources)
    for name, period in (("CacheHitLatencyAlarm", 300), ("RecommendLatencyRollbackAlarm", 60)):
        alarm = alarms[name]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["ExtendedStatistic"]) == (
            "Recommendations",
            "Latency",
            "p95",
        )
        assert alarm["Dimensions"] == [
            {"Name": "service", "Value": "recommend"},
            {"Name": "cache", "Value": "hit"},
        ]
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"]) == (
            "GreaterThanThreshold",
            50,
            period,
        )


def test_surges_fallbacks_store_errors_session_failures_unverified_callers_rules_and_throttles(
    resources: dict[str, Any],
) -> None:
    alarms = _alarms(resources)
    shares = {
        "ApiClientErrorSurgeAlarm": ({"4xx", "Count"}, "IF(requests >= 100, 100 * errors / requests, 0)", 20),
        "FallbackShareAlarm": (
            {"UserFallbacks", "UserRequests"},
            "IF(whole >= 50, 100 * part / whole, 0)",
            50,
        ),
        "StoreErrorsAlarm": ({"StoreErrors", "Requests"}, "IF(whole >= 50, 100 * part / whole, 0)", 1),
        "SessionSignalFailuresAlarm": (
            {"SessionSignalFailures", "Invocations"},
            "IF(whole >= 50, 100 * part / whole, 0)",
            5,
        ),
    }
    for name, (metrics, expression, threshold) in shares.items():
        alarm = alarms[name]
        # Then each compares a share in percent, above a request floor, with its threshold
        assert _metric_names(alarm) == metrics, name
        assert _returned(alarm)["Expression"] == expression, name
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", threshold)
    unverified = alarms["CallersUnverifiedAlarm"]
    assert (unverified["MetricName"], unverified["Threshold"]) == ("CallersUnverified", 0)
    # And serving without fresh rules for 15 minutes (a blip is served with the last rules read)
    rules = alarms["RulesUnavailableAlarm"]
    assert (rules["MetricName"], rules["Threshold"]) == ("RulesUnavailable", 0)
    assert rules["Dimensions"] == [{"Name": "service", "Value": "recommend"}]
    assert (rules["Period"], rules["EvaluationPeriods"]) == (300, 3)
    throttles = alarms["DynamoDbThrottlesAlarm"]
    assert _metric_names(throttles) == {"ReadThrottleEvents", "WriteThrottleEvents"}
    tables = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in throttles["Metrics"]
        if "MetricStat" in m
    }
    assert tables == {"ModelTable", "StateTable"}
    assert (throttles["ComparisonOperator"], throttles["Threshold"]) == ("GreaterThanThreshold", 0)


def test_recommend_and_ingest_release_as_canaries_rolled_back_by_fast_alarms(
    resources: dict[str, Any],
) -> None:
    alarms = _alarms(resources)
    expected = {
        "RecommendFunction": ["RecommendErrorsAlarm", "RecommendLatencyRollbackAlarm"],
        "IngestFunction": ["IngestErrorsAlarm"],
    }
    for function, triggers in expected.items():
        properties = resources[function]["Properties"]
        preference = properties["DeploymentPreference"]
        # Then a new version takes 10% of traffic for 10 minutes in shared stages, at once in dev
        assert properties["AutoPublishAlias"] == "live"
        assert preference["Type"] == {"Fn::If": ["IsDev", "AllAtOnce", "Canary10Percent10Minutes"]}
        # And its rollback alarms watch that function and can fire within the 10 minutes
        assert preference["Alarms"] == [{"Ref": name} for name in triggers]
        for name in triggers:
            alarm = alarms[name]
            assert alarm["Period"] * alarm["EvaluationPeriods"] <= 600, name


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


def test_no_version_went_live_in_36_hours(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["TrainingStaleAlarm"]
    # Then it counts versions that went live over 36 hours (not successful executions: a run
    # refused the lease succeeds without publishing) and an hour without data counts against it
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "Recommendations",
        "VersionsPublished",
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "train"}]
    assert alarm["Period"] * alarm["DatapointsToAlarm"] == 36 * 3600
    assert alarm["DatapointsToAlarm"] == alarm["EvaluationPeriods"]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    # and stays inside CloudWatch's limit (7 days of evaluation for periods of an hour or more)
    assert alarm["Period"] >= 3600
    assert alarm["Period"] * alarm["EvaluationPeriods"] <= 7 * 86400


def test_a_train_step_cut_short_by_its_time_limit_on_two_of_three_days(resources: dict[str, Any]) -> None:
    alarm = _alarms(resources)["TrainStepNearTimeLimitAlarm"]
    # Then it counts the train function's searches stopped by the invocation's deadline, a day
    # at a time (one run a day), and fires on two of the last three days; no run is no signal
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "Recommendations",
        "SearchStoppedByDeadline",
        "Sum",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "train"}]
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (86400, 3, 2)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "TrainingAlertsTopic"}]


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
    # And a record that does not convert to the lake's Parquet (it goes to errors/, not the lake)
    # is told at once: any such record is an event training never sees
    conversion = alarms["LakeConversionFailureAlarm"]
    assert (conversion["MetricName"], conversion["Statistic"]) == ("FailedConversion.Records", "Sum")
    assert (conversion["ComparisonOperator"], conversion["Threshold"]) == ("GreaterThanThreshold", 0)
    assert conversion["Dimensions"] == stream


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


def test_every_alarm_has_a_runbook_entry_in_the_operations_guide(resources: dict[str, Any]) -> None:
    # Given the operations guide and every alarm of the template
    guide = (repo_root() / "docs" / "operations.md").read_text(encoding="utf-8")
    names = set(_alarms(resources)) | set(_composites(resources))
    # Then each is named in the guide (its row: when it fires, where to look, what to do)
    missing = sorted(name for name in names if f"`{name}`" not in guide)
    assert missing == []
