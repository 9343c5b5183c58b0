"""Wiring of the privacy function and of the erasure purge."""

from __future__ import annotations

from recs.adapters import aws
from recs.auth.policy import SubjectPolicy
from recs.config.privacy import PrivacySettings, PurgeSettings
from recs.privacy.erasure import LiveData
from recs.privacy.purge import ErasurePurge, PurgeDeps
from recs.privacy.receipts import ReceiptBook
from recs.privacy.service import PrivacyService
from recs.wiring.auth import subject_policy
from recs.wiring.common import cache, pseudonymizer, table, utc_now


def privacy_service(settings: PrivacySettings) -> PrivacyService:
    dynamodb = aws.client("dynamodb", settings.clients)
    models = table(settings.model_table_name, client=dynamodb)
    state = table(settings.state_table_name, client=dynamodb)
    shared_cache = cache(settings)
    return PrivacyService(
        LiveData(models, state, shared_cache, lambda name: table(name, client=dynamodb)),
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
    from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
    from recs.adapters.s3 import S3ObjectStore
    from recs.training.privacy.artifact_scrub import ArtifactScrubber

    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    models = table(settings.model_table_name, client=dynamodb)
    state = table(settings.state_table_name, client=dynamodb)
    shared_cache = cache(settings)
    return ErasurePurge(
        PurgeDeps(
            receipts=ReceiptBook(state),
            privacy=DynamoPrivacyRecords(
                settings.state_table_name, dynamodb, segments=settings.state_scan_segments
            ),
            live=LiveData(models, state, shared_cache, lambda name: table(name, client=dynamodb)),
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
