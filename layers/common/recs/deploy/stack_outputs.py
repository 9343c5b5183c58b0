"""AWS adapters of the deploy commands: a deployed stack's outputs and its model table."""

from __future__ import annotations

from typing import Any

from recs.adapters.dynamodb import DynamoTable


def _client(service: str, region: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def stack_outputs(stack_name: str, *, region: str | None = None, client: Any = None) -> dict[str, str]:
    """The stack's outputs by key (``ModelTableName``, ``ApiUrl``, ...)."""
    cloudformation = client or _client("cloudformation", region)
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}


def model_table(table_name: str, *, region: str | None = None) -> DynamoTable:
    return DynamoTable(table_name, _client("dynamodb", region))
