"""DynamoDB table adapter (KeyValueTable port) on the low-level client.

Batch calls retry `UnprocessedItems`/`UnprocessedKeys` with exponential backoff and full
jitter; botocore's standard retry mode already handles throttling of whole calls. Every AWS
fault leaves as `StoreUnavailableError` (`recs.adapters.faults`), never as a botocore type.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from recs.adapters.faults import FaultTranslatingClient
from recs.errors import StoreUnavailableError

_BATCH_WRITE = 25
_BATCH_GET = 100
_MAX_ROUNDS = 8


def _backoff(attempt: int, base: float = 0.05, cap: float = 2.0) -> None:
    time.sleep(random.uniform(0, min(cap, base * 2**attempt)))


class DynamoTable:
    """A table whose items are addressed by string keys `pk` and `sk`."""

    def __init__(self, table_name: str, client: Any, *, write_threads: int = 4) -> None:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

        self.table_name = table_name
        self._client = FaultTranslatingClient(client, table_name)
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()
        self._write_threads = write_threads

    # -- (de)serialization -------------------------------------------------------------------
    def _to_ddb(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._ser.serialize(v) for k, v in item.items() if v is not None}

    def _from_ddb(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: self._de.deserialize(v) for k, v in item.items()}

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    # -- reads ---------------------------------------------------------------------------------
    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.table_name, Key=self._key(pk, sk))
        item = response.get("Item")
        return self._from_ddb(item) if item else None

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH_GET):
            request = {
                self.table_name: {
                    "Keys": [self._key(pk, sk) for pk, sk in unique[start : start + _BATCH_GET]]
                }
            }
            for attempt in range(_MAX_ROUNDS):
                response = self._client.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self.table_name, []):
                    item = self._from_ddb(raw)
                    found[(item["pk"], item["sk"])] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                _backoff(attempt)
            else:
                raise StoreUnavailableError(f"{self.table_name}: keys still unprocessed after retries")
        return [found.get(key) for key in keys]

    def query(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        expression = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": pk}}
        if sk_prefix:
            expression += " AND begins_with(sk, :sk)"
            values[":sk"] = {"S": sk_prefix}
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": expression,
            "ExpressionAttributeValues": values,
        }
        while True:
            response = self._client.query(**kwargs)
            items.extend(self._from_ddb(raw) for raw in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def scan_keys(self) -> Iterator[tuple[str, str]]:
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ProjectionExpression": "pk, sk"}
        while True:
            response = self._client.scan(**kwargs)
            for raw in response.get("Items", []):
                yield raw["pk"]["S"], raw["sk"]["S"]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def scan(self) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        while True:
            response = self._client.scan(**kwargs)
            for raw in response.get("Items", []):
                yield self._from_ddb(raw)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- writes --------------------------------------------------------------------------------
    def put(self, item: Mapping[str, Any]) -> None:
        self._client.put_item(TableName=self.table_name, Item=self._to_ddb(item))

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write every item (BatchWriteItem in parallel); raise if any stays unprocessed."""
        requests = [{"PutRequest": {"Item": self._to_ddb(item)}} for item in items]
        return self._batch_write(requests)

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> int:
        requests = [{"DeleteRequest": {"Key": self._key(pk, sk)}} for pk, sk in dict.fromkeys(keys)]
        return self._batch_write(requests)

    def _batch_write(self, requests: list[dict[str, Any]]) -> int:
        chunks = [requests[i : i + _BATCH_WRITE] for i in range(0, len(requests), _BATCH_WRITE)]
        if len(chunks) <= 1 or self._write_threads <= 1:
            return sum(self._write_chunk(chunk) for chunk in chunks)
        with ThreadPoolExecutor(max_workers=self._write_threads) as pool:
            return sum(pool.map(self._write_chunk, chunks))

    def _write_chunk(self, chunk: list[dict[str, Any]]) -> int:
        pending: dict[str, Any] = {self.table_name: chunk}
        for attempt in range(_MAX_ROUNDS):
            response = self._client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return len(chunk)
            _backoff(attempt)
        left = len(pending.get(self.table_name, []))
        raise StoreUnavailableError(f"{self.table_name}: {left} writes still unprocessed after retries")
