"""DynamoDB rows with a write counter (the session signal's `VersionedRows` port).

Strongly consistent batch reads, and conditional writes that succeed only when the row's
counter is still the one that was read (optimistic concurrency). Every store fault, throttling
included once botocore's own bounded retries are spent, becomes `StoreUnavailableError`; a lost
race is not a fault but a False for that row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from recs.errors import StoreUnavailableError

_BATCH_GET = 100
_GET_ROUNDS = 3


class DynamoVersionedRows:
    """Rows addressed by string keys `pk`/`sk`, written conditionally on a numeric attribute."""

    def __init__(
        self,
        table_name: str,
        client: Any,
        *,
        write_threads: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
        from botocore.exceptions import BotoCoreError, ClientError

        self.table_name = table_name
        self._client = client
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()
        self._write_threads = write_threads
        self._sleep = sleep
        self._faults: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        self._client_error = ClientError

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH_GET):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [
                        {"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in unique[start : start + _BATCH_GET]
                    ],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_GET_ROUNDS):
                try:
                    response = self._client.batch_get_item(RequestItems=request)
                except self._faults as exc:
                    raise StoreUnavailableError(f"{self.table_name}: read failed: {exc}") from exc
                for raw in response.get("Responses", {}).get(self.table_name, []):
                    item = {k: self._de.deserialize(v) for k, v in raw.items()}
                    found[(item["pk"], item["sk"])] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(random.uniform(0, 0.05 * 2**attempt))
            else:
                raise StoreUnavailableError(f"{self.table_name}: keys still unprocessed after retries")
        return [found.get(key) for key in keys]

    def put_many_if_version(
        self, rows: Sequence[Mapping[str, Any]], attribute: str, expected: Sequence[int]
    ) -> list[bool]:
        if len(rows) != len(expected):
            raise ValueError("one expected version per row")
        pairs = list(zip(rows, expected, strict=True))
        if len(pairs) <= 1 or self._write_threads <= 1:
            return [self._put_if_version(row, attribute, version) for row, version in pairs]
        with ThreadPoolExecutor(max_workers=min(self._write_threads, len(pairs))) as pool:
            return list(pool.map(lambda pair: self._put_if_version(pair[0], attribute, pair[1]), pairs))

    def _put_if_version(self, row: Mapping[str, Any], attribute: str, expected: int) -> bool:
        # A row never written has no counter: version 0 means "the attribute does not exist".
        if expected == 0:
            condition, values = "attribute_not_exists(#v)", None
        else:
            condition, values = "#v = :expected", {":expected": {"N": str(expected)}}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {k: self._ser.serialize(v) for k, v in row.items() if v is not None},
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#v": attribute},
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**kwargs)
        except self._client_error as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailableError(f"{self.table_name}: conditional write failed: {exc}") from exc
        except self._faults as exc:
            raise StoreUnavailableError(f"{self.table_name}: conditional write failed: {exc}") from exc
        return True
