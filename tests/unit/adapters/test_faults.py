"""One fault policy: every adapter turns AWS faults into `StoreUnavailableError` itself (a
missing S3 object into `KeyError`), so nothing above the adapters ever sees a botocore type."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from recs.adapters.dynamodb import DynamoTable
from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
from recs.adapters.s3 import S3ObjectStore
from recs.adapters.secrets import SecretsManagerSource
from recs.errors import StoreUnavailableError

THROTTLED = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
UNREACHABLE = EndpointConnectionError(endpoint_url="https://dynamodb.eu-west-1.amazonaws.com")
SLOW = ReadTimeoutError(endpoint_url="https://s3.eu-west-1.amazonaws.com")
NO_SUCH_KEY = ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")


class FailingClient:
    """A boto3 client whose every call (and every paginator) fails like the given error."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail

    def get_paginator(self, name: str) -> Any:
        return self

    def paginate(self, **kwargs: Any) -> Any:
        raise self.error


@pytest.mark.parametrize("error", [THROTTLED, UNREACHABLE, SLOW])
def test_every_dynamodb_table_call_fails_as_a_store_error(error: Exception) -> None:
    # Given a table whose client fails (throttled, unreachable, too slow)
    table = DynamoTable("state", FailingClient(error))
    # When any call of the port is made / Then it raises StoreUnavailableError naming the table
    for call in (
        lambda: table.get("pk", "sk"),
        lambda: table.get_many([("pk", "sk")]),
        lambda: table.put({"pk": "pk", "sk": "sk"}),
        lambda: table.put_many([{"pk": "pk", "sk": "sk"}]),
        lambda: table.delete_many([("pk", "sk")]),
        lambda: table.query("pk"),
        lambda: list(table.scan_keys()),
    ):
        with pytest.raises(StoreUnavailableError, match=r"^state: "):
            call()


@pytest.mark.parametrize("error", [THROTTLED, UNREACHABLE, SLOW])
def test_every_s3_call_fails_as_a_store_error(error: Exception) -> None:
    store = S3ObjectStore("lake", FailingClient(error))
    for call in (
        lambda: store.get("k"),
        lambda: store.put("k", b"x"),
        lambda: list(store.list_keys("p/")),
        lambda: store.delete(["k"]),
    ):
        with pytest.raises(StoreUnavailableError, match=r"^lake: "):
            call()


def test_a_missing_s3_object_is_a_key_error_not_an_outage() -> None:
    store = S3ObjectStore("lake", FailingClient(NO_SUCH_KEY))
    with pytest.raises(KeyError, match=r"models/v1/ids\.json"):
        store.get("models/v1/ids.json")


def test_the_privacy_scan_fails_as_a_store_error() -> None:
    records = DynamoPrivacyRecords("state", FailingClient(THROTTLED), segments=2)
    with pytest.raises(StoreUnavailableError, match="ProvisionedThroughputExceededException"):
        records.opted_out_and_tombstones()


DENIED = ClientError({"Error": {"Code": "AccessDenied"}}, "GetSecretValue")


@pytest.mark.parametrize("error", [UNREACHABLE, DENIED])
def test_an_unreadable_secret_fails_as_a_store_error(error: Exception) -> None:
    source = SecretsManagerSource(FailingClient(error))
    with pytest.raises(StoreUnavailableError, match=r"^secrets manager: "):
        source.get_secret("pseudonym-key")


NOT_FOUND = ClientError({"Error": {"Code": "404"}}, "HeadObject")


def test_the_export_store_says_a_missing_object_is_not_there_and_fails_on_outages() -> None:
    # Given the export bucket answering HeadObject with 404, then with a throttle
    from recs.adapters.s3 import S3ExportStore

    # Then a missing object is simply absent, and an outage is a store error naming the bucket
    assert S3ExportStore("exports", FailingClient(NOT_FOUND)).exists("exports/u/r.json") is False
    with pytest.raises(StoreUnavailableError, match="exports"):
        S3ExportStore("exports", FailingClient(THROTTLED)).exists("exports/u/r.json")


@pytest.mark.parametrize("error", [THROTTLED, UNREACHABLE])
def test_an_export_that_cannot_be_started_is_a_store_error(error: Exception) -> None:
    # Given Lambda refusing or unreachable
    from recs.adapters.lambda_invoke import LambdaExportLauncher

    launcher = LambdaExportLauncher("export-fn", FailingClient(error))
    # When an export is launched / Then StoreUnavailableError naming the function
    with pytest.raises(StoreUnavailableError, match="export-fn"):
        launcher.launch("0" * 32)
