"""Per-version lists tables loaded with DynamoDB ImportTable (the `ListsTables` port).

A large shop's users' lists are not written item by item: the publish shards write import files
(gzip DynamoDB JSON under ``models/<version>/import/`` of the artifact bucket) and ImportTable
creates a new table from them, billed by the gigabyte read instead of by the write. The table
gets the model table's key schema, on-demand billing and encryption with the AWS managed key
(as the model table). Every AWS fault leaves as `StoreUnavailableError`.

Locally the same calls run on moto, which imports DynamoDB JSON with GZIP compression and
reports the import's progress; it ignores the new table's encryption setting (docs/training.md,
Publish).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from recs.adapters.dynamodb import DynamoTable
from recs.adapters.faults import store_faults
from recs.ports import ImportProgress

_KEYS = ("pk", "sk")
_NOT_FOUND = "ResourceNotFoundException"


class DynamoListsTables:
    def __init__(self, client: Any, bucket: str, *, write_threads: int = 4) -> None:
        from boto3.dynamodb.types import TypeSerializer

        self._client = client
        self._bucket = bucket
        self._ser = TypeSerializer()
        self._write_threads = write_threads

    def import_file(self, rows: Sequence[Mapping[str, Any]]) -> bytes:
        lines = (
            json.dumps(
                {"Item": {k: self._ser.serialize(v) for k, v in row.items() if v is not None}},
                separators=(",", ":"),
            )
            for row in rows
        )
        return gzip.compress("\n".join(lines).encode(), compresslevel=5)

    def start_import(self, table: str, prefix: str, token: str) -> str:
        with store_faults(f"import into {table}"):
            response = self._client.import_table(
                ClientToken=token,
                S3BucketSource={"S3Bucket": self._bucket, "S3KeyPrefix": prefix},
                InputFormat="DYNAMODB_JSON",
                InputCompressionType="GZIP",
                TableCreationParameters={
                    "TableName": table,
                    "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in _KEYS],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {"Enabled": True},
                },
            )
        return str(response["ImportTableDescription"]["ImportArn"])

    def progress(self, import_arn: str) -> ImportProgress:
        with store_faults("describe import"):
            described = self._client.describe_import(ImportArn=import_arn)["ImportTableDescription"]
        return ImportProgress(
            status=str(described["ImportStatus"]),
            imported=int(described.get("ImportedItemCount") or 0),
            failure=" ".join(
                str(described[k]) for k in ("FailureCode", "FailureMessage") if described.get(k)
            ),
        )

    def warm(self, table: str, read_units_per_second: int) -> bool:
        with store_faults(f"warm {table}"):
            described = self._client.describe_table(TableName=table)["Table"]
            warm = described.get("WarmThroughput") or {}
            if int(warm.get("ReadUnitsPerSecond") or 0) < read_units_per_second:
                self._client.update_table(
                    TableName=table, WarmThroughput={"ReadUnitsPerSecond": read_units_per_second}
                )
                return False
        return str(warm.get("Status") or "ACTIVE") == "ACTIVE"

    def delete(self, table: str) -> bool:
        try:
            with store_faults(f"delete {table}"):
                self._client.delete_table(TableName=table)
        except Exception as error:
            if _not_found(error):
                return False
            raise
        return True

    def exists(self, table: str) -> bool:
        try:
            with store_faults(f"describe {table}"):
                status = self._client.describe_table(TableName=table)["Table"].get("TableStatus")
        except Exception as error:
            if _not_found(error):
                return False
            raise
        return bool(status != "DELETING")

    def rows(self, table: str) -> DynamoTable:
        return DynamoTable(table, self._client, write_threads=self._write_threads)


def _not_found(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, ClientError) and cause.response.get("Error", {}).get("Code") == _NOT_FOUND
