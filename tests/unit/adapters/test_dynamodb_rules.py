"""The rules store on DynamoDB (moto): the row and its audit record in one transaction, a lost race
is False (nothing written), and every AWS fault a `StoreUnavailableError`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from recs.adapters.dynamodb_rules import DynamoRuleStore
from recs.errors import StoreUnavailableError
from recs.rules.model import Rule, RuleBody, RuleChange
from recs.store_layout import RULES_AUDIT_PK, RULES_KEY
from tests.clock import PINNED_NOW
from tests.unit.adapters.test_faults import THROTTLED, UNREACHABLE, FailingClient

TABLE = "state"
BODY = RuleBody(kind="block", productId="p1", startsAt=PINNED_NOW, endsAt=PINNED_NOW + timedelta(days=1))


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        dynamodb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def change(rule: Rule, revision: int) -> RuleChange:
    return RuleChange(
        ruleId=rule.id, action="put", who="arn:op", at=PINNED_NOW, before=None, after=rule, revision=revision
    )


def test_a_write_stores_the_rules_and_the_audit_record_and_a_stale_one_is_refused(client: Any) -> None:
    # Given an empty store and a rule
    store = DynamoRuleStore(TABLE, client)
    rule = Rule.of("r1", BODY, "arn:op", PINNED_NOW)
    # When it is written at revision 0, then written again by someone still holding revision 0
    first = store.write([rule], 0, change(rule, 1))
    stale = store.write([], 0, change(rule, 1))
    # Then the first is stored with its audit record, and the stale one changed nothing
    assert first is True
    assert stale is False
    assert store.read() == ([rule], 1)
    assert [c.after for c in store.changes(10)] == [rule]
    audit = client.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": RULES_AUDIT_PK}},
    )["Items"]
    assert len(audit) == 1


def test_an_empty_store_has_no_rules_and_revision_0(client: Any) -> None:
    # Given an empty table / Then no rules, revision 0
    assert DynamoRuleStore(TABLE, client).read() == ([], 0)


def test_an_unreadable_row_is_a_store_error(client: Any) -> None:
    # Given a rules row of no known shape / When read / Then a store error
    client.put_item(
        TableName=TABLE,
        Item={"pk": {"S": RULES_KEY[0]}, "sk": {"S": RULES_KEY[1]}, "d": {"S": "[{}]"}, "rev": {"N": "1"}},
    )
    with pytest.raises(StoreUnavailableError):
        DynamoRuleStore(TABLE, client).read()


@pytest.mark.parametrize("error", [THROTTLED, UNREACHABLE])
def test_every_fault_is_a_store_error(error: Exception) -> None:
    # Given a failing client / When any call is made / Then a store error
    store = DynamoRuleStore(TABLE, FailingClient(error))
    rule = Rule.of("r1", BODY, "arn:op", PINNED_NOW)
    for call in (store.read, lambda: store.write([rule], 0, change(rule, 1)), lambda: store.changes(5)):
        with pytest.raises(StoreUnavailableError):
            call()
