"""The training lease on a moto DynamoDB table: one holder at a time, expiry, release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from recs.adapters.dynamodb_lease import DynamoLeaseStore
from recs.training.errors import TrainingInProgressError
from recs.training.lease import TrainingLease

TABLE = "state"
START = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store() -> Iterator[DynamoLeaseStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DynamoLeaseStore(TABLE, client)


def test_a_second_run_is_refused_while_the_first_holds_the_lease(store: DynamoLeaseStore) -> None:
    # Given run A holding the lease
    clock = Clock()
    lease = TrainingLease(store, clock, ttl_seconds=3600)
    taken = lease.take("run-a")
    assert taken == {"holder": "run-a", "expiresAt": int(START.timestamp()) + 3600}
    # When run B asks for it half an hour later
    clock.now = START + timedelta(minutes=30)
    with pytest.raises(TrainingInProgressError) as refused:
        lease.take("run-b")
    # Then it is refused, naming the holder
    assert refused.value.holder == "run-a"
    assert "run-a" in str(refused.value)


def test_the_holder_may_take_it_again_when_its_step_is_retried(store: DynamoLeaseStore) -> None:
    # Given run A holding the lease
    clock = Clock()
    lease = TrainingLease(store, clock, ttl_seconds=3600)
    lease.take("run-a")
    # When the same step of run A runs again (a Step Functions retry)
    clock.now = START + timedelta(minutes=1)
    again = lease.take("run-a")
    # Then it still holds it, with a later expiry
    assert again["expiresAt"] == int(START.timestamp()) + 60 + 3600


def test_a_lapsed_lease_is_free_for_the_next_run(store: DynamoLeaseStore) -> None:
    # Given run A that took the lease and died without giving it back
    clock = Clock()
    lease = TrainingLease(store, clock, ttl_seconds=3600)
    lease.take("run-a")
    # When run B asks after the lease lapsed
    clock.now = START + timedelta(seconds=3601)
    # Then B gets it, and A can no longer give it back
    assert lease.take("run-b")["holder"] == "run-b"
    assert not lease.give_back("run-a")
    with pytest.raises(TrainingInProgressError):
        lease.take("run-c")


def test_a_released_lease_can_be_taken_at_once(store: DynamoLeaseStore) -> None:
    # Given run A that finished and gave the lease back
    clock = Clock()
    lease = TrainingLease(store, clock, ttl_seconds=3600)
    grant = lease.take("run-a")
    assert lease.give_back(str(grant["holder"]))
    # When run B starts a minute later / Then it gets the lease
    clock.now = START + timedelta(minutes=1)
    assert lease.take("run-b")["holder"] == "run-b"


def test_a_job_without_a_lease_gives_nothing_back(store: DynamoLeaseStore) -> None:
    # Given run A holding the lease
    lease = TrainingLease(store, Clock(), ttl_seconds=3600)
    lease.take("run-a")
    # When a failure path runs for a job that never took it (it failed before TakeLease)
    released = lease.give_back(None)
    # Then nothing is released, and A still holds it
    assert not released
    with pytest.raises(TrainingInProgressError):
        lease.take("run-b")
