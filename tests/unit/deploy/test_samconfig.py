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


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_templates_rules_hold_for_each_environment(environment: str, template: dict[str, Any]) -> None:
    # Given the overrides and the template's Rules (cache needs network, issuer needs audience)
    overrides = _overrides(environment)
    assert set(template["Rules"]) == {"CacheNeedsNetwork", "AuthNeedsAudience"}
    # Then a cache comes with its VPC, subnets and route tables, an issuer with its audience
    if overrides.get("EnableCache") == "true":
        for name in ("CacheVpcId", "CacheSubnetIds", "CacheRouteTableIds"):
            assert overrides.get(name), name
    if overrides.get("AuthIssuerUrl"):
        assert overrides.get("AuthAudience")
    # And no origin is the wildcard outside dev
    origins = overrides["AllowedOrigins"].split(",")
    assert "*" not in origins
    if environment != "dev":
        assert all(origin.startswith("https://") for origin in origins)
