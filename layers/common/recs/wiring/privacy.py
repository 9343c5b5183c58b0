"""Wiring of the privacy function, of the export job and of the erasure purge."""

from __future__ import annotations

from typing import Any

from recs.adapters import aws
from recs.adapters.lambda_invoke import LambdaExportLauncher
from recs.adapters.s3 import S3ExportStore, S3ObjectStore
from recs.auth.policy import SubjectPolicy
from recs.config.privacy import ExportSettings, PrivacySettings, PurgeSettings
from recs.privacy.erasure import LiveData
from recs.privacy.export_job import ExportDeps, ExportJob
from recs.privacy.exports import ExportBook, ExportErasure, ExportService, ExportTimings
from recs.privacy.purge import ErasurePurge, PurgeDeps
from recs.privacy.receipts import ReceiptBook
from recs.privacy.service import PrivacyService
from recs.visitor_ids import SIGNING_LABEL, VisitorIds
from recs.wiring.auth import subject_policy
from recs.wiring.common import cache, pseudonymizer, table, utc_now


def _exports(state: Any, bucket: str, s3: Any) -> tuple[ExportBook, S3ExportStore, ExportErasure]:
    book = ExportBook(state)
    objects = S3ExportStore(bucket, s3)
    return book, objects, ExportErasure(book, objects)


def privacy_services(settings: PrivacySettings) -> tuple[PrivacyService, ExportService, VisitorIds]:
    dynamodb = aws.client("dynamodb", settings.clients)
    # Signature version 4 for the presigned download URLs (S3 refuses version 2 on new buckets).
    s3 = aws.client("s3", settings.clients, signature_version="s3v4")
    models = table(settings.model_table_name, client=dynamodb)
    state = table(settings.state_table_name, client=dynamodb)
    shared_cache = cache(settings)
    pseudonyms = pseudonymizer(settings.pseudonym_secret_id)
    book, objects, erasure = _exports(state, settings.export_bucket_name, s3)
    privacy = PrivacyService(
        LiveData(models, state, shared_cache, lambda name: table(name, client=dynamodb), exports=erasure),
        state,
        ReceiptBook(state),
        shared_cache,
        pseudonyms,
        utc_now,
    )
    exports = ExportService(
        book,
        objects,
        LambdaExportLauncher(settings.export_function_name, aws.client("lambda", settings.clients)),
        pseudonyms,
        utc_now,
        ExportTimings(
            retention_days=settings.export_retention_days,
            url_seconds=settings.export_url_seconds,
            stale_after_seconds=settings.export_stale_after_seconds,
        ),
    )
    # Signed anonymous ids: a key derived from the pseudonym secret (one secret, one fetch).
    visitor_ids = VisitorIds(lambda: pseudonyms.derived_key(SIGNING_LABEL))
    return privacy, exports, visitor_ids


def privacy_policy(settings: PrivacySettings) -> SubjectPolicy:
    """API Gateway's JWT authorizer checks the privacy routes' tokens; the function checks whose."""
    return subject_policy(settings, verify_tokens=False)


def export_job(settings: ExportSettings) -> ExportJob:
    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    state = table(settings.state_table_name, client=dynamodb)
    return ExportJob(
        ExportDeps(
            book=ExportBook(state),
            state_table=state,
            model_table=table(settings.model_table_name, client=dynamodb),
            lake=S3ObjectStore(settings.lake_bucket_name, s3),
            lake_prefix=settings.lake_prefix,
            objects=S3ExportStore(settings.export_bucket_name, s3),
            pseudonyms=pseudonymizer(settings.pseudonym_secret_id),
            clock=utc_now,
            prefetch=settings.export_prefetch,
        )
    )


def erasure_purge(settings: PurgeSettings) -> ErasurePurge:
    # numpy and scipy only here: the purge runs with the science layer, the privacy routes without.
    from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
    from recs.training.privacy.artifact_scrub import ArtifactScrubber

    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    models = table(settings.model_table_name, client=dynamodb)
    state = table(settings.state_table_name, client=dynamodb)
    shared_cache = cache(settings)
    _, _, exports = _exports(state, settings.export_bucket_name, s3)
    return ErasurePurge(
        PurgeDeps(
            receipts=ReceiptBook(state),
            privacy=DynamoPrivacyRecords(
                settings.state_table_name, dynamodb, segments=settings.state_scan_segments
            ),
            live=LiveData(
                models, state, shared_cache, lambda name: table(name, client=dynamodb), exports=exports
            ),
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
