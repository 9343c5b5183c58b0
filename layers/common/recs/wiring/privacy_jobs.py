"""Wiring of the export job and of the erasure purge: the functions that read the event lake
(Parquet and NDJSON, `recs.privacy.lake_purge`) and carry the arrow layer (numpy, pyarrow; no
scipy: template.yaml ExportFunction, PurgeFunction)."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
from recs.adapters.s3 import S3ExportStore, S3ObjectStore
from recs.config.privacy import ExportSettings, PurgeSettings
from recs.privacy.erasure import LiveData
from recs.privacy.export_job import ExportDeps, ExportJob
from recs.privacy.exports import ExportBook
from recs.privacy.purge import ErasurePurge, PurgeDeps
from recs.privacy.receipts import ReceiptBook
from recs.training.privacy.artifact_scrub import ArtifactScrubber
from recs.wiring.common import cache, pseudonymizer, table, utc_now
from recs.wiring.privacy import export_stores


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
    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    models = table(settings.model_table_name, client=dynamodb)
    state = table(settings.state_table_name, client=dynamodb)
    shared_cache = cache(settings)
    _, _, exports = export_stores(state, settings.export_bucket_name, s3)
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
