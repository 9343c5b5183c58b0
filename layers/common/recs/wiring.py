"""Composition roots: settings in, services wired to their adapters out.

Only this module and `recs.adapters` know which concrete stores back the ports.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.firehose import FirehoseSink
from recs.adapters.redis_cache import NullCache, RedisCache, make_cache
from recs.adapters.secrets import SecretsManagerSource
from recs.config.common import CacheSettings
from recs.config.ingest import IngestSettings
from recs.config.privacy import PrivacySettings
from recs.config.recommend import RecommendSettings
from recs.domain.pseudonym import Pseudonymizer
from recs.ingest.service import IngestService
from recs.ingest.session_signal import SessionSignal
from recs.privacy.service import PrivacyService
from recs.serving.repository import ListRepository
from recs.serving.service import RecommendService

if TYPE_CHECKING:
    from recs.config.train import TrainSettings
    from recs.training.pipeline import TrainingPipeline


def utc_now() -> datetime:
    return datetime.now(UTC)


def pseudonymizer(secret_id: str) -> Pseudonymizer:
    source = SecretsManagerSource(aws.client("secretsmanager"))
    return Pseudonymizer(source.get_secret(secret_id))


def cache(settings: CacheSettings) -> RedisCache | NullCache:
    return make_cache(
        settings.cache_url,
        connect_timeout_ms=settings.cache_connect_timeout_ms,
        read_timeout_ms=settings.cache_read_timeout_ms,
    )


def table(name: str, *, read_timeout: float = 2.0) -> DynamoTable:
    return DynamoTable(name, aws.client("dynamodb", connect_timeout=1.0, read_timeout=read_timeout))


def recommend_service(settings: RecommendSettings) -> RecommendService:
    repository = ListRepository(
        table(settings.model_table_name, read_timeout=1.0),
        table(settings.state_table_name, read_timeout=1.0),
        cache(settings),
        pointer_ttl_seconds=settings.pointer_ttl_seconds,
        cache_ttl_seconds=settings.cache_ttl_seconds,
    )
    return RecommendService(repository, pseudonymizer(settings.pseudonym_secret_id))


def ingest_service(settings: IngestSettings) -> IngestService:
    state = table(settings.state_table_name)
    return IngestService(
        FirehoseSink(settings.delivery_stream_name, aws.client("firehose")),
        pseudonymizer(settings.pseudonym_secret_id),
        SessionSignal(
            state,
            max_items=settings.session_max_items,
            ttl_seconds=settings.session_ttl_seconds,
            clock=utc_now,
        ),
        max_age=timedelta(days=settings.event_max_age_days),
        max_future=timedelta(seconds=settings.event_max_future_seconds),
        clock=utc_now,
    )


def privacy_service(settings: PrivacySettings) -> PrivacyService:
    return PrivacyService(
        table(settings.model_table_name),
        table(settings.state_table_name),
        cache(settings),
        pseudonymizer(settings.pseudonym_secret_id),
        utc_now,
    )


def training_pipeline(settings: TrainSettings) -> TrainingPipeline:
    from recs.adapters.s3 import S3ObjectStore
    from recs.training.pipeline import TrainingConfig, TrainingDeps, TrainingPipeline

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
