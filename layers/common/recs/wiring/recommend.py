"""Wiring of the recommend function: settings -> adapters -> service.

Everything here runs at cold start and opens no connection: the DynamoDB client is built (both
tables share it), the cache connects on first use, and the pseudonym key is fetched on first use
(`recs.pseudonyms.LazyPseudonymizer`, as in every function), so a Secrets Manager outage
degrades requests instead of failing the container.
"""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb_rules import DynamoRuleStore
from recs.config.recommend import RecommendSettings
from recs.serving.experiments import Experiments
from recs.serving.repository import CacheTtls, ListRepository
from recs.serving.rules import RuleCache
from recs.serving.service import RecommendService, ServingOptions
from recs.wiring.common import cache, pseudonymizer, table

#: The cache copy of the pointer is only read when DynamoDB is down; a week outlives any outage.
CONTROL_COPY_TTL_SECONDS = 7 * 86_400


def recommend_service(settings: RecommendSettings) -> RecommendService:
    # Serving's own store budget (STORE_TIMEOUT_SECONDS, STORE_MAX_ATTEMPTS) is tighter than the
    # interactive profile: a slow read falls back to the cache and the next tier.
    dynamodb = aws.client(
        "dynamodb",
        settings.clients,
        connect_timeout=settings.store_timeout_seconds,
        read_timeout=settings.store_timeout_seconds,
        max_attempts=settings.store_max_attempts,
    )
    repository = ListRepository(
        table(settings.model_table_name, client=dynamodb),
        table(settings.state_table_name, client=dynamodb),
        cache(settings),
        ttls=CacheTtls(
            lists=settings.cache_ttl_seconds,
            optout=settings.optout_cache_ttl_seconds,
            session=settings.session_cache_ttl_seconds,
            control=CONTROL_COPY_TTL_SECONDS,
        ),
        control_ttl_seconds=settings.pointer_ttl_seconds,
        memory_entries=settings.memory_list_entries,
        # An imported version's users' rows: its own table, named by the pointer.
        lists_table=lambda name: table(name, client=dynamodb),
    )
    return RecommendService(
        repository,
        pseudonymizer(settings.pseudonym_secret_id),
        chains=settings.fallback_chains,
        experiments=Experiments(settings.experiments, settings.fallback_chains),
        options=ServingOptions(
            exclude_purchased=settings.exclude_purchased,
            session_seeds=settings.session_seed_products,
            session_weight=settings.session_weight,
            rerank_weight=settings.rerank_weight,
            new_arrivals_share=settings.new_arrivals_share,
            diversity_caps=settings.diversity_caps,
        ),
        rules=RuleCache(
            DynamoRuleStore(settings.state_table_name, dynamodb),
            ttl_seconds=settings.rules_cache_ttl_seconds,
            retry_seconds=settings.rules_retry_seconds,
        ),
    )
