"""The operations dashboard as the local stack builds it from template.yaml."""

from __future__ import annotations

import json

from recs_tools.local.stack import LocalStack


def test_the_dashboard_is_created_and_charts_this_stacks_resources(stack: LocalStack) -> None:
    # Given the dashboard the local stack created
    name = stack.physical["OperationsDashboard"]
    body = json.loads(stack.client("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    # When the dimension values of its metric lines are collected
    values = {
        line[3]
        for widget in body["widgets"]
        for line in widget["properties"].get("metrics", [])
        if isinstance(line[0], str) and line[0].startswith("AWS/")
    }
    # Then each names a function, API, stream or state machine this stack created
    assert values <= {*stack.physical.values(), *map(str, stack.resolver.refs.values())}
    assert stack.physical["RecommendFunction"] in values
    assert stack.state_machines["TrainingStateMachine"].arn in values
