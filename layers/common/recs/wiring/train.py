"""Wiring of the training function (the only one that imports numpy and scipy)."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.s3 import S3ObjectStore
from recs.config.train import TrainSettings
from recs.training.pipeline import TrainingConfig, TrainingDeps, TrainingPipeline
from recs.wiring.common import cache, pseudonymizer, utc_now


def training_pipeline(settings: TrainSettings) -> TrainingPipeline:
    s3 = aws.client("s3", read_timeout=60.0)
    config = TrainingConfig(
        lake_prefix=settings.lake_prefix,
        window_days=settings.training_window_days,
        holdout_days=settings.holdout_days,
        top_k=settings.top_k,
        version_ttl_days=settings.version_ttl_days,
        event_weights=dict(settings.event_weights),
        shard_users=settings.publish_shard_users,
    )
    deps = TrainingDeps(
        lake=S3ObjectStore(settings.lake_bucket_name, s3),
        artifacts=S3ObjectStore(settings.artifact_bucket_name, s3),
        model_table=DynamoTable(settings.model_table_name, aws.client("dynamodb", read_timeout=10.0)),
        state_table=DynamoTable(settings.state_table_name, aws.client("dynamodb", read_timeout=10.0)),
        cache=cache(settings),
        pseudonyms=pseudonymizer(settings.pseudonym_secret_id),
        clock=utc_now,
        cache_ttl_seconds=settings.cache_ttl_seconds,
    )
    return TrainingPipeline(config, deps)
