"""Wiring of the recommend function."""

from __future__ import annotations

from recs.config.recommend import RecommendSettings
from recs.serving.repository import ListRepository
from recs.serving.service import RecommendService
from recs.wiring.common import cache, pseudonymizer, table


def recommend_service(settings: RecommendSettings) -> RecommendService:
    repository = ListRepository(
        table(settings.model_table_name, read_timeout=1.0),
        table(settings.state_table_name, read_timeout=1.0),
        cache(settings),
        pointer_ttl_seconds=settings.pointer_ttl_seconds,
        cache_ttl_seconds=settings.cache_ttl_seconds,
    )
    return RecommendService(repository, pseudonymizer(settings.pseudonym_secret_id))
