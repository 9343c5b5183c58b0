"""The privacy function's tables turn every AWS fault into `StoreUnavailableError` (503)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from recs.adapters.dynamodb import DynamoTable
from recs.errors import StoreUnavailableError
from recs.wiring.privacy import GuardedTable


class FailingClient:
    """A DynamoDB client whose every call fails like the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(**kwargs: Any) -> Any:
            raise self.error

        return fail


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"),
        EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com"),
    ],
)
def test_throttling_and_outages_become_store_errors(error: Exception) -> None:
    # Given a table whose client fails (throttled, or DynamoDB unreachable)
    table = GuardedTable(DynamoTable("state", FailingClient(error)))
    # When the privacy code reads, writes, deletes or queries / Then each raises StoreUnavailableError
    for call in (
        lambda: table.get("pk", "sk"),
        lambda: table.get_many([("pk", "sk")]),
        lambda: table.put({"pk": "pk", "sk": "sk"}),
        lambda: table.put_many([{"pk": "pk", "sk": "sk"}]),
        lambda: table.delete_many([("pk", "sk")]),
        lambda: table.query("pk"),
        lambda: list(table.scan_keys()),
    ):
        with pytest.raises(StoreUnavailableError):
            call()
