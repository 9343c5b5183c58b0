"""Adapters every function's wiring shares."""

from __future__ import annotations

from datetime import UTC, datetime

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.redis_cache import NullCache, RedisCache, make_cache
from recs.adapters.secrets import SecretsManagerSource
from recs.config.common import INTERACTIVE, CacheSettings
from recs.pseudonyms import LazyPseudonymizer


def utc_now() -> datetime:
    return datetime.now(UTC)


def pseudonymizer(secret_id: str) -> LazyPseudonymizer:
    """Every function's pseudonyms: the key is fetched on first use, never at cold start
    (`LazyPseudonymizer` documents the policy)."""
    source = SecretsManagerSource(aws.client("secretsmanager", INTERACTIVE))
    return LazyPseudonymizer(lambda: source.get_secret(secret_id))


def cache(settings: CacheSettings) -> RedisCache | NullCache:
    return make_cache(
        settings.cache_url,
        connect_timeout_ms=settings.cache_connect_timeout_ms,
        read_timeout_ms=settings.cache_read_timeout_ms,
    )


def table(name: str, client: object) -> DynamoTable:
    """A DynamoDB table; the tables of one function share its `client` (one connection pool)."""
    return DynamoTable(name, client)
