"""Wiring of the recommend function: settings -> adapters -> service.

Everything here runs at cold start and opens no connection: the DynamoDB client is built (both
tables share it), the cache connects on first use, and the pseudonym key is fetched on first use
(`recs.serving.identity`), so a Secrets Manager outage degrades requests instead of failing the
container.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recs.adapters import aws
from recs.adapters.dynamodb import DynamoTable
from recs.adapters.secrets import SecretsManagerSource
from recs.config.recommend import RecommendSettings
from recs.errors import StoreUnavailableError
from recs.serving.experiments import Experiments
from recs.serving.identity import LazyPseudonyms
from recs.serving.repository import CacheTtls, ListRepository
from recs.serving.service import RecommendService, ServingOptions
from recs.wiring.common import cache, table

#: The cache copy of the pointer is only read when DynamoDB is down; a week outlives any outage.
CONTROL_COPY_TTL_SECONDS = 7 * 86_400


class StoreReads:
    """A table's reads with every AWS fault turned into `StoreUnavailableError` (what serving
    falls back on), so the domain needs to know nothing about botocore."""

    def __init__(self, table_: DynamoTable) -> None:
        self._table = table_

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            return self._table.get(pk, sk)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailableError(f"{self._table.table_name}: {type(exc).__name__}") from exc

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        try:
            return self._table.get_many(keys)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailableError(f"{self._table.table_name}: {type(exc).__name__}") from exc


def pseudonym_key_loader(secret_id: str) -> Callable[[], bytes]:
    """Fetches the pseudonym key (first use only); a failure is a `StoreUnavailableError`."""

    def load() -> bytes:
        try:
            return SecretsManagerSource(aws.client("secretsmanager", read_timeout=2.0)).get_secret(secret_id)
        except Exception as exc:  # Powertools wraps every AWS fault in its own error types
            raise StoreUnavailableError(f"pseudonym key: {type(exc).__name__}") from exc

    return load


def recommend_service(settings: RecommendSettings) -> RecommendService:
    dynamodb = aws.client(
        "dynamodb",
        connect_timeout=settings.store_timeout_seconds,
        read_timeout=settings.store_timeout_seconds,
        max_attempts=settings.store_max_attempts,
    )
    repository = ListRepository(
        StoreReads(table(settings.model_table_name, client=dynamodb)),
        StoreReads(table(settings.state_table_name, client=dynamodb)),
        cache(settings),
        ttls=CacheTtls(
            lists=settings.cache_ttl_seconds,
            optout=settings.optout_cache_ttl_seconds,
            session=settings.session_cache_ttl_seconds,
            control=CONTROL_COPY_TTL_SECONDS,
        ),
        control_ttl_seconds=settings.pointer_ttl_seconds,
        memory_entries=settings.memory_list_entries,
    )
    return RecommendService(
        repository,
        LazyPseudonyms(pseudonym_key_loader(settings.pseudonym_secret_id)),
        chains=settings.fallback_chains,
        experiments=Experiments(settings.experiments, settings.fallback_chains),
        options=ServingOptions(
            exclude_purchased=settings.exclude_purchased,
            session_seeds=settings.session_seed_products,
            session_weight=settings.session_weight,
            rerank_weight=settings.rerank_weight,
            new_arrivals_share=settings.new_arrivals_share,
        ),
    )
