"""Wiring of the training function (the only one that imports numpy and scipy)."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.dynamodb_import import DynamoListsTables
from recs.adapters.dynamodb_lease import DynamoLeaseStore
from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
from recs.adapters.s3 import S3ObjectStore
from recs.config.train import TrainSettings
from recs.training.lease import TrainingLease
from recs.training.pipeline import PipelineConfig, TrainingDeps, TrainingPipeline
from recs.wiring.common import cache, pseudonymizer, utc_now


def training_pipeline(settings: TrainSettings) -> TrainingPipeline:
    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    deps = TrainingDeps(
        artifacts=S3ObjectStore(settings.artifact_bucket_name, s3),
        model_table=DynamoTable(
            settings.model_table_name, dynamodb, write_threads=settings.publish_write_threads
        ),
        privacy=DynamoPrivacyRecords(
            settings.state_table_name, dynamodb, segments=settings.state_scan_segments
        ),
        cache=cache(settings),
        pseudonyms=pseudonymizer(settings.pseudonym_secret_id),
        clock=utc_now,
        cache_ttl_seconds=settings.cache_ttl_seconds,
        lease=TrainingLease(
            DynamoLeaseStore(settings.state_table_name, dynamodb),
            clock=utc_now,
            ttl_seconds=settings.training_lease_seconds,
        ),
        lists_tables=DynamoListsTables(
            dynamodb, settings.artifact_bucket_name, write_threads=settings.publish_write_threads
        ),
    )
    config = PipelineConfig(
        lake_prefix=settings.lake_prefix,
        params=settings.training_parameters(),
        lists_table_prefix=settings.lists_table_prefix,
    )
    return TrainingPipeline(config, deps)
