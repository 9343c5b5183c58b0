"""The merchandising rules in the state table (`recs.rules.admin.RuleStore`).

One row holds every rule (``RULES``/``CURRENT``, `recs.store_layout`): serving reads it with one
GetItem, the admin function changes it with TransactWriteItems, the conditional write of the row
and the put of the change's audit record together. Every AWS fault leaves as
`StoreUnavailableError`; a cancelled transaction whose condition failed is a lost race (False).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from recs.errors import StoreUnavailableError
from recs.rules.model import Rule, RuleChange
from recs.store_layout import RULES_AUDIT_PK, RULES_KEY, rule_audit_key

_REVISION = "rev"


class DynamoRuleStore:
    def __init__(self, table_name: str, client: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self.table_name = table_name
        self._client = client
        self._faults: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        self._client_error = ClientError

    def read(self) -> tuple[list[Rule], int]:
        try:
            response = self._client.get_item(
                TableName=self.table_name,
                Key={"pk": {"S": RULES_KEY[0]}, "sk": {"S": RULES_KEY[1]}},
                ConsistentRead=True,
            )
        except self._faults as error:
            raise StoreUnavailableError(
                f"{self.table_name}: rules not read: {type(error).__name__}"
            ) from error
        item = response.get("Item")
        if not item:
            return [], 0
        try:
            rules = [Rule.model_validate(raw) for raw in json.loads(item["d"]["S"])]
            return rules, int(item[_REVISION]["N"])
        except (KeyError, ValueError) as error:
            # A row no version of this code wrote: as unreadable as an outage, never half-applied.
            raise StoreUnavailableError(f"{self.table_name}: the rules row is unreadable") from error

    def write(self, rules: Sequence[Rule], expected_revision: int, change: RuleChange) -> bool:
        document = json.dumps([rule.model_dump(mode="json") for rule in rules], separators=(",", ":"))
        pk, sk = RULES_KEY
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if expected_revision == 0
            else {
                "ConditionExpression": "#rev = :expected",
                "ExpressionAttributeNames": {"#rev": _REVISION},
                "ExpressionAttributeValues": {":expected": {"N": str(expected_revision)}},
            }
        )
        audit_pk, audit_sk = rule_audit_key(change.at, change.revision, change.ruleId)
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"S": sk},
                        "d": {"S": document},
                        _REVISION: {"N": str(change.revision)},
                    },
                    **condition,
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        "pk": {"S": audit_pk},
                        "sk": {"S": audit_sk},
                        "d": {"S": change.model_dump_json()},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except self._client_error as error:
            if _lost_race(error.response):
                return False
            raise StoreUnavailableError(
                f"{self.table_name}: rules not written: {_code(error.response)}"
            ) from error
        except self._faults as error:
            raise StoreUnavailableError(
                f"{self.table_name}: rules not written: {type(error).__name__}"
            ) from error
        return True

    def changes(self, limit: int) -> list[RuleChange]:
        try:
            response = self._client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": RULES_AUDIT_PK}},
                ScanIndexForward=False,
                Limit=limit,
            )
        except self._faults as error:
            raise StoreUnavailableError(
                f"{self.table_name}: audit not read: {type(error).__name__}"
            ) from error
        return [RuleChange.model_validate_json(item["d"]["S"]) for item in response.get("Items", [])]


def _code(response: Any) -> str:
    return str((response.get("Error") or {}).get("Code", "error"))


def _lost_race(response: Any) -> bool:
    if _code(response) == "ConditionalCheckFailedException":
        return True
    if _code(response) != "TransactionCanceledException":
        return False
    reasons = response.get("CancellationReasons") or []
    if reasons:
        return any((reason or {}).get("Code") == "ConditionalCheckFailed" for reason in reasons)
    # Some endpoints give the reasons in the message only: "[ConditionalCheckFailed, None]".
    return "ConditionalCheckFailed" in str((response.get("Error") or {}).get("Message", ""))
