"""`PrivacyRecords` on the DynamoDB state table: one parallel, server-side filtered scan.

The state table's partition key is the pseudonym, so "every opted-out user" has no key to
query; the scan runs ``segments`` segments in parallel, DynamoDB filters out everything except
opted-out preference rows and tombstones before returning them, and only ``pk`` travels back
(1 MB pages of keys). The read cost is one pass over the table per training run, which is
daily; a sparse index (see docs/training.md) would make it proportional to the opt-outs.

Its AWS faults leave as `StoreUnavailableError` (`recs.adapters.faults`); the workflow retries
the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from recs.adapters.faults import FaultTranslatingClient
from recs.store_layout import TOMBSTONE_PK_PREFIX, preference_key
from recs.training.privacy.exclusions import collect

_USER_PREFIX = preference_key("")[0]
_PREF_SK = preference_key("")[1]


class DynamoPrivacyRecords:
    """Reads opt-outs and erasure tombstones from the state table."""

    def __init__(self, table_name: str, client: Any, *, segments: int = 8) -> None:
        self.table_name = table_name
        self._client = FaultTranslatingClient(client, table_name)
        self._segments = max(1, segments)

    def opted_out_and_tombstones(self) -> tuple[set[str], set[str]]:
        with ThreadPoolExecutor(max_workers=self._segments) as pool:
            pages = list(pool.map(lambda segment: list(self._scan(segment)), range(self._segments)))
        return collect(pair for page in pages for pair in page)

    def _scan(self, segment: int) -> Iterator[tuple[str, str]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Segment": segment,
            "TotalSegments": self._segments,
            "ProjectionExpression": "pk",
            "FilterExpression": "(sk = :pref AND #rec = :false) OR begins_with(pk, :erased)",
            "ExpressionAttributeNames": {"#rec": "recommendations"},
            "ExpressionAttributeValues": {
                ":pref": {"S": _PREF_SK},
                ":false": {"BOOL": False},
                ":erased": {"S": TOMBSTONE_PK_PREFIX},
            },
        }
        while True:
            response = self._client.scan(**kwargs)
            for item in response.get("Items", []):
                pk = item["pk"]["S"]
                if pk.startswith(TOMBSTONE_PK_PREFIX):
                    yield "erased", pk.removeprefix(TOMBSTONE_PK_PREFIX)
                elif pk.startswith(_USER_PREFIX):
                    yield "optout", pk.removeprefix(_USER_PREFIX)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
