"""Adapters every function's wiring shares."""

from __future__ import annotations

from datetime import UTC, datetime

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.redis_cache import NullCache, RedisCache, make_cache
from recs.adapters.secrets import SecretsManagerSource
from recs.config.common import CacheSettings
from recs.domain.pseudonym import Pseudonymizer


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


def table(
    name: str,
    *,
    read_timeout: float = 2.0,
    connect_timeout: float = 1.0,
    max_attempts: int = 4,
    client: object | None = None,
) -> DynamoTable:
    """A DynamoDB table; tables of one function may share a `client` (one connection pool)."""
    return DynamoTable(
        name,
        client
        or aws.client(
            "dynamodb", connect_timeout=connect_timeout, read_timeout=read_timeout, max_attempts=max_attempts
        ),
    )
