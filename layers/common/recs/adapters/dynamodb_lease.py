"""LeaseStore on a DynamoDB table: one item per lease, taken and released by conditional writes.

The item's ``expiresAt`` is also the table's TTL attribute, so a lapsed lease is eventually
deleted; until then the condition treats it as free.
"""

from __future__ import annotations

from typing import Any

from recs.errors import StoreUnavailableError

_SK = "LEASE"


def lease_key(name: str) -> dict[str, Any]:
    return {"pk": {"S": f"LEASE#{name}"}, "sk": {"S": _SK}}


class DynamoLeaseStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._client = client

    def acquire(self, name: str, holder: str, now: float, expires_at: float) -> str | None:
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    **lease_key(name),
                    "holder": {"S": holder},
                    "takenAt": {"N": str(int(now))},
                    "expiresAt": {"N": str(int(expires_at))},
                },
                ConditionExpression="attribute_not_exists(pk) OR expiresAt < :now OR holder = :holder",
                ExpressionAttributeValues={":now": {"N": str(int(now))}, ":holder": {"S": holder}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            current = self._client.get_item(
                TableName=self.table_name, Key=lease_key(name), ConsistentRead=True
            ).get("Item")
            if current is None:
                # Released between the two calls: the caller may try again.
                raise StoreUnavailableError(f"lease {name} changed hands while being taken") from None
            return str(current["holder"]["S"])
        return None

    def release(self, name: str, holder: str) -> bool:
        try:
            self._client.delete_item(
                TableName=self.table_name,
                Key=lease_key(name),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
