"""samconfig.toml: every environment `sam deploy --config-env <env>` resolves against template.yaml."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest

from recs_tools.checkout import repo_root

ENVIRONMENTS = ("dev", "staging", "prod")


def _config() -> dict[str, Any]:
    with (repo_root() / "samconfig.toml").open("rb") as handle:
        return tomllib.load(handle)


def _overrides(environment: str) -> dict[str, str]:
    text = _config()[environment]["deploy"]["parameters"]["parameter_overrides"]
    overrides: dict[str, str] = {}
    for item in shlex.split(text):
        key, separator, value = item.partition("=")
        assert separator, item
        overrides[key] = value
    return overrides


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_override_is_a_template_parameter_with_an_allowed_value(
    environment: str, template: dict[str, Any]
) -> None:
    # Given the environment's parameter overrides and the template's parameters
    overrides = _overrides(environment)
    parameters = template["Parameters"]
    # Then each names a parameter and respects its allowed values and minimum
    assert set(overrides) <= set(parameters), set(overrides) - set(parameters)
    for name, value in overrides.items():
        spec = parameters[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
        if spec["Type"] == "Number":
            assert float(value) >= float(spec.get("MinValue", float("-inf"))), (name, value)
    # And the stage is the environment's own
    assert overrides["Stage"] == environment


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_deploys_its_own_stack_with_what_sam_deploy_needs(environment: str) -> None:
    deploy = _config()[environment]["deploy"]["parameters"]
    assert deploy["stack_name"] == f"recs-{environment}"
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True
    assert deploy["region"]


def _evaluate(expression: Any, parameters: dict[str, str]) -> Any:
    """The value of a Rules expression (the intrinsics template.yaml's Rules use)."""
    if isinstance(expression, dict):
        ((function, argument),) = expression.items()
        if function == "Ref":
            return parameters[argument]
        values = [_evaluate(a, parameters) for a in argument] if isinstance(argument, list) else argument
        if function == "Fn::Equals":
            return str(values[0]) == str(values[1])
        if function == "Fn::Not":
            return not values[0]
        if function == "Fn::Or":
            return any(values)
        if function == "Fn::And":
            return all(values)
        if function == "Fn::Contains":
            items = values[0].split(",") if isinstance(values[0], str) else values[0]
            return str(values[1]) in [str(item).strip() for item in items]
        if function == "Fn::Join":
            separator, items = values[0], _evaluate(argument[1], parameters)
            return separator.join(items if isinstance(items, list) else [items] if items else [])
        raise AssertionError(f"unknown intrinsic {function}")
    return expression


def _failed_rules(template: dict[str, Any], overrides: dict[str, str]) -> list[str]:
    """The AssertDescription of every rule assertion these parameters break (CloudFormation
    refuses the deploy with it)."""
    parameters = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    parameters.update(overrides)
    failed = []
    for rule in template["Rules"].values():
        if "RuleCondition" in rule and not _evaluate(rule["RuleCondition"], parameters):
            continue
        broken = [a for a in rule["Assertions"] if not _evaluate(a["Assert"], parameters)]
        failed += [assertion["AssertDescription"] for assertion in broken]
    return failed


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_templates_rules_hold_for_each_environment(environment: str, template: dict[str, Any]) -> None:
    # Given the overrides and the template's Rules
    overrides = _overrides(environment)
    assert set(template["Rules"]) == {
        "CacheNeedsNetwork",
        "AuthNeedsAudience",
        "SharedStagesNeedCallerAuth",
        "SharedStagesNeedAlerts",
        "SharedStagesNeedTheirOrigins",
        "CachedStacksWithAuthNeedAnInternetRoute",
        "ContainerEngineNeedsImageAndNetwork",
        "PrepareInContainerNeedsTheContainerEngine",
    }
    # Then CloudFormation would accept every environment as configured
    assert _failed_rules(template, overrides) == []
    # And staging and prod name an issuer, its audience and an alert address
    if environment != "dev":
        assert overrides["AuthIssuerUrl"].startswith("https://")
        assert overrides["AuthAudience"]
        assert "@" in overrides["AlertEmail"]
    # And no origin is the wildcard outside dev
    origins = overrides["AllowedOrigins"].split(",")
    assert "*" not in origins
    if environment != "dev":
        assert all(origin.startswith("https://") for origin in origins)


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_a_shared_stage_without_caller_auth_or_alerts_is_refused(
    stage: str, template: dict[str, Any]
) -> None:
    # Given a shared stage deployed with the template's defaults (no issuer, no alert address)
    failed = _failed_rules(template, {"Stage": stage})
    # Then CloudFormation refuses it, saying what is missing
    assert any("AuthIssuerUrl" in message for message in failed)
    assert any("AlertEmail" in message for message in failed)
    # And recording the choice to run without caller auth (with an alert address) is accepted
    recorded = {
        "Stage": stage,
        "AllowAnonymousCallers": "true",
        "AlertEmail": "ops@example.com",
        "AllowedOrigins": "https://www.example.com",
    }
    assert _failed_rules(template, recorded) == []
    # While dev keeps deploying with no issuer and no address
    assert _failed_rules(template, {"Stage": "dev"}) == []


def test_prod_reserves_ingest_concurrency_and_the_default_reserves_none(template: dict[str, Any]) -> None:
    # Given the ingest function's reservation and the environments' overrides
    ingest = template["Resources"]["IngestFunction"]["Properties"]
    parameter = template["Parameters"]["IngestReservedConcurrency"]
    # Then it reserves only when the parameter is set: a new account's quota of 10 refuses any
    # reservation, so the template's default reserves none
    assert ingest["ReservedConcurrentExecutions"] == {
        "Fn::If": ["IngestHasReservation", {"Ref": "IngestReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert parameter["Default"] == 0
    assert template["Conditions"]["IngestHasReservation"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "IngestReservedConcurrency"}, 0]}]
    }
    # And prod reserves (and caps) ingest so that an event spike cannot starve recommendations
    assert int(_overrides("prod")["IngestReservedConcurrency"]) > 0
    assert "IngestReservedConcurrency" not in _overrides("dev")


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_a_shared_stage_keeping_the_local_demos_origin_is_refused(
    stage: str, template: dict[str, Any]
) -> None:
    # Given a shared stage otherwise complete, with the template's default origin (the local demo's)
    complete = {"Stage": stage, "AuthIssuerUrl": "https://id.example.com", "AuthAudience": "app"}
    complete["AlertEmail"] = "ops@example.com"
    # Then CloudFormation refuses it, naming AllowedOrigins; with the shop's origins it deploys
    assert [m for m in _failed_rules(template, complete) if "AllowedOrigins" in m]
    assert _failed_rules(template, {**complete, "AllowedOrigins": "https://www.example.com"}) == []


def test_a_cached_stack_checking_tokens_needs_a_route_to_the_issuer(template: dict[str, Any]) -> None:
    # Given the cache on (functions in private subnets) and caller authorization on
    cached = {
        "EnableCache": "true",
        "CacheVpcId": "vpc-1",
        "CacheSubnetIds": "subnet-a,subnet-b",
        "CacheRouteTableIds": "rtb-a",
        "AuthIssuerUrl": "https://id.example.com",
        "AuthAudience": "app",
    }
    # Then it is refused until the subnets' route out is recorded
    assert [m for m in _failed_rules(template, cached) if "VpcHasInternetRoute" in m]
    assert _failed_rules(template, {**cached, "VpcHasInternetRoute": "true"}) == []
    # And without caller authorization no route out is needed (every other call has an endpoint)
    assert _failed_rules(template, {**cached, "AuthIssuerUrl": "", "AuthAudience": ""}) == []


def test_each_vpc_endpoint_can_be_left_to_the_one_the_vpc_has(template: dict[str, Any]) -> None:
    # Given the endpoints and their conditions
    resources, conditions = template["Resources"], template["Conditions"]
    endpoints = {
        "DynamoDbGatewayEndpoint": "CreateDynamoDbEndpoint",
        "S3GatewayEndpoint": "CreateS3Endpoint",
        "SecretsManagerEndpoint": "CreateSecretsManagerEndpoint",
        "FirehoseEndpoint": "CreateFirehoseEndpoint",
        "LambdaEndpoint": "CreateLambdaEndpoint",
    }
    for endpoint, parameter in endpoints.items():
        # Then each exists only with the cache and its own parameter left at "true"
        condition = conditions[resources[endpoint]["Condition"]]
        assert condition == {
            "Fn::And": [{"Condition": "CacheEnabled"}, {"Fn::Equals": [{"Ref": parameter}, "true"]}]
        }
        assert template["Parameters"][parameter]["Default"] == "true"
    # And the endpoints' security group exists only when an interface endpoint is created
    group = conditions[resources["EndpointSecurityGroup"]["Condition"]]
    interface = [
        {"Condition": "MakeSecretsManagerEndpoint"},
        {"Condition": "MakeFirehoseEndpoint"},
        {"Condition": "MakeLambdaEndpoint"},
    ]
    assert group == {"Fn::Or": interface}
