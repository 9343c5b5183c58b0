"""Wiring of the prepare function (the only one that imports pyarrow; no scipy)."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.dynamodb_privacy import DynamoPrivacyRecords
from recs.adapters.s3 import S3ObjectStore
from recs.config.train import TrainSettings
from recs.training.prepare.plan import PreparePlanner
from recs.training.prepare_step import PrepareDeps, PrepareStep
from recs.wiring.common import pseudonymizer, utc_now


def prepare_step(settings: TrainSettings) -> PrepareStep:
    s3 = aws.client("s3", settings.clients)
    dynamodb = aws.client("dynamodb", settings.clients)
    deps = PrepareDeps(
        lake=S3ObjectStore(settings.lake_bucket_name, s3),
        artifacts=S3ObjectStore(settings.artifact_bucket_name, s3),
        model_table=DynamoTable(settings.model_table_name, dynamodb),
        privacy=DynamoPrivacyRecords(
            settings.state_table_name, dynamodb, segments=settings.state_scan_segments
        ),
        pseudonyms=pseudonymizer(settings.pseudonym_secret_id),
        clock=utc_now,
        artifacts_uri=f"s3://{settings.artifact_bucket_name}",
    )
    return PrepareStep(settings.lake_prefix, settings.training_parameters(), deps)


def prepare_planner(settings: TrainSettings) -> PreparePlanner:
    return PreparePlanner(
        S3ObjectStore(settings.lake_bucket_name, aws.client("s3", settings.clients)),
        settings.lake_prefix,
        settings.training_window_days,
        settings.prepare_container_min_lake_bytes,
    )
