"""Wiring of the privacy function and of the erasure purge."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.auth.policy import SubjectPolicy
from recs.config.privacy import PrivacySettings, PurgeSettings
from recs.errors import StoreUnavailableError
from recs.privacy.erasure import LiveData
from recs.privacy.purge import ErasurePurge, PurgeDeps
from recs.privacy.receipts import ReceiptBook
from recs.privacy.service import PrivacyService
from recs.wiring.auth import subject_policy
from recs.wiring.common import cache, pseudonymizer, table, utc_now


class GuardedTable:
    """A table whose AWS faults surface as `StoreUnavailableError` (503 with Retry-After, or a
    retried workflow step), so the domain needs to know nothing about botocore."""

    def __init__(self, table_: DynamoTable) -> None:
        self._table = table_

    def _fault(self, error: Exception) -> StoreUnavailableError:
        return StoreUnavailableError(f"{self._table.table_name}: {type(error).__name__}")

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            return self._table.get(pk, sk)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        try:
            return self._table.get_many(keys)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def put(self, item: Mapping[str, Any]) -> None:
        try:
            self._table.put(item)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        try:
            return self._table.put_many(items)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def delete_many(self, keys: Iterable[tuple[str, str]]) -> int:
        try:
            return self._table.delete_many(keys)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def query(self, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
        try:
            return self._table.query(pk, sk_prefix)
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error

    def scan_keys(self) -> Iterator[tuple[str, str]]:
        try:
            yield from self._table.scan_keys()
        except (BotoCoreError, ClientError) as error:
            raise self._fault(error) from error


def privacy_service(settings: PrivacySettings) -> PrivacyService:
    dynamodb = aws.client("dynamodb", connect_timeout=1.0, read_timeout=2.0, max_attempts=3)
    models = GuardedTable(table(settings.model_table_name, client=dynamodb))
    state = GuardedTable(table(settings.state_table_name, client=dynamodb))
    shared_cache = cache(settings)
    return PrivacyService(
        LiveData(models, state, shared_cache),
        state,
        ReceiptBook(state),
        shared_cache,
        pseudonymizer(settings.pseudonym_secret_id),
        utc_now,
    )


def privacy_policy(settings: PrivacySettings) -> SubjectPolicy:
    """API Gateway's JWT authorizer checks the privacy routes' tokens; the function checks whose."""
    return subject_policy(settings, verify_tokens=False)


def erasure_purge(settings: PurgeSettings) -> ErasurePurge:
    # numpy and scipy only here: the purge runs with the science layer, the privacy routes without.
    from recs.adapters.s3 import S3ObjectStore
    from recs.training.artifact_scrub import ArtifactScrubber
    from recs.training.privacy_scan import DynamoPrivacyRecords

    s3 = aws.client("s3", read_timeout=60.0, max_pool_connections=64)
    dynamodb = aws.client("dynamodb", read_timeout=10.0, max_pool_connections=32)
    models = GuardedTable(table(settings.model_table_name, client=dynamodb))
    state = GuardedTable(table(settings.state_table_name, client=dynamodb))
    shared_cache = cache(settings)
    return ErasurePurge(
        PurgeDeps(
            receipts=ReceiptBook(state),
            privacy=DynamoPrivacyRecords(
                settings.state_table_name, dynamodb, segments=settings.state_scan_segments
            ),
            live=LiveData(models, state, shared_cache),
            state_table=state,
            cache=shared_cache,
            lake=S3ObjectStore(settings.lake_bucket_name, s3),
            lake_prefix=settings.lake_prefix,
            artifacts=ArtifactScrubber(S3ObjectStore(settings.artifact_bucket_name, s3)),
            pseudonyms=pseudonymizer(settings.pseudonym_secret_id),
            clock=utc_now,
            prefetch=settings.purge_prefetch,
        )
    )
