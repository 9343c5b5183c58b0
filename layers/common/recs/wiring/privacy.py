"""Wiring of the privacy function (the privacy routes: common layer only, so nothing here reaches
the lake readers or pyarrow; the export job and the purge are wired in `recs.wiring.privacy_jobs`)."""

from __future__ import annotations

from typing import Any

from recs.adapters import aws
from recs.adapters.lambda_invoke import LambdaExportLauncher
from recs.adapters.s3 import S3ExportStore
from recs.auth.policy import SubjectPolicy
from recs.config.privacy import PrivacySettings
from recs.privacy.erasure import LiveData
from recs.privacy.exports import ExportBook, ExportErasure, ExportService, ExportTimings
from recs.privacy.receipts import ReceiptBook
from recs.privacy.service import PrivacyService
from recs.visitor_ids import SIGNING_LABEL, VisitorIds
from recs.wiring.auth import subject_policy
from recs.wiring.common import cache, pseudonymizer, table, utc_now


def export_stores(state: Any, bucket: str, s3: Any) -> tuple[ExportBook, S3ExportStore, ExportErasure]:
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
    book, objects, erasure = export_stores(state, settings.export_bucket_name, s3)
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
