"""AWS adapters of the deploy commands: a deployed stack's outputs and its model table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from recs.adapters.dynamodb import DynamoTable


class MissingOutputsError(ValueError):
    """The stack lacks outputs this project's template declares: most likely another stack."""


def _client(service: str, region: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def stack_outputs(
    stack_name: str, *, required: Sequence[str] = (), region: str | None = None, client: Any = None
) -> dict[str, str]:
    """The stack's outputs by key (``ModelTableName``, ``ApiUrl``, ...).

    Raises `MissingOutputsError`, naming them, when any of ``required`` is absent.
    """
    cloudformation = client or _client("cloudformation", region)
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    missing = [key for key in required if key not in outputs]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise MissingOutputsError(
            f"stack {stack_name!r} has no {', '.join(missing)} output{plural}: is it this project's stack?"
        )
    return outputs


def model_table(table_name: str, *, region: str | None = None) -> DynamoTable:
    return DynamoTable(table_name, _client("dynamodb", region))


def lists_table_exists(*, region: str | None = None) -> Callable[[str], bool]:
    """Whether a per-version lists table (ImportTable publishing) still exists."""
    from recs.adapters.dynamodb_import import DynamoListsTables

    # Only DescribeTable is called: no bucket is read.
    return DynamoListsTables(_client("dynamodb", region), bucket="").exists
