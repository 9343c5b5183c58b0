"""GET /api/recommendations: the best list that can be had right now.

Fallback is configuration: per context an ordered list of named sources, filled up to `limit`
with duplicates and excluded products skipped. All lists a request may need are fetched in one
round trip (one cache MGET, one DynamoDB BatchGetItem for the misses) before filling.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from recs.domain.pseudonym import Pseudonymizer
from recs.errors import ServiceUnavailableError
from recs.models.recommendations import Reason, RecommendationResponse, ScoredProduct
from recs.serving.query import RecommendationQuery
from recs.serving.repository import Items, ListRepository, ReadStats
from recs.storage import ALL_CATEGORIES, bought_together_pk, popular_pk, similar_pk, trending_pk, user_pk

DEFAULT_CHAINS: dict[str, tuple[str, ...]] = {
    "homepage": ("user", "session", "category-popular", "popular", "trending"),
    "product-page": ("similar", "bought-together", "category-popular", "popular", "trending"),
    "cart": ("bought-together", "cart-similar", "category-popular", "popular", "trending"),
}
PERSONAL_SOURCES = frozenset({"user", "session"})
_SESSION_SEEDS = 5


@dataclass
class Outcome:
    response: RecommendationResponse
    stats: ReadStats
    sources_used: list[str] = field(default_factory=list)
    personalized: bool = False


class RecommendService:
    def __init__(
        self,
        repository: ListRepository,
        pseudonyms: Pseudonymizer,
        *,
        chains: Mapping[str, Sequence[str]] | None = None,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._repo = repository
        self._pseudonyms = pseudonyms
        self._chains = {**DEFAULT_CHAINS, **(chains or {})}
        self._new_id = new_id

    def recommend(self, query: RecommendationQuery) -> Outcome:
        stats = ReadStats()
        pointer = self._repo.current()
        if pointer is None:
            raise ServiceUnavailableError("no model has been published yet", retry_after=60)
        version = pointer.version
        context = query.effective_context
        user = self._pseudonyms.user(query.userId) if query.userId else None
        anon = self._pseudonyms.anon(query.anonId) if query.anonId else None
        opted_out = bool(user and self._repo.opted_out(user))
        chain = [s for s in self._chains[context] if not (opted_out and s in PERSONAL_SOURCES)]

        recent: list[str] = []
        if "session" in chain and not opted_out:
            for visitor in (user, anon):
                if visitor:
                    recent.extend(r["productId"] for r in self._repo.recent_products(visitor))
            recent = list(dict.fromkeys(recent))[:_SESSION_SEEDS]
        catalog = self._repo.catalog(version)
        category = query.category or (catalog.get(query.productId) if query.productId else None)
        if category is None and recent:
            category = catalog.get(recent[0])

        plan = self._plan(chain, user, query, recent, category)
        lists = self._repo.lists(version, [pk for pks in plan.values() for pk in pks], stats)

        excluded = {p for p in (query.productId, *query.cartProductIds) if p}
        picked: list[ScoredProduct] = []
        seen: set[str] = set()
        used: list[str] = []
        for source in chain:
            candidates = self._candidates(source, plan.get(source, []), lists)
            before = len(picked)
            for product, score, reason in candidates:
                if len(picked) >= query.limit:
                    break
                if product in seen or product in excluded:
                    continue
                if query.category and catalog.get(product) != query.category:
                    continue
                seen.add(product)
                picked.append(
                    ScoredProduct(
                        id=product, score=round(score, 5), reason=Reason(reason) if reason else None
                    )
                )
            if len(picked) > before:
                used.append(source)
            if len(picked) >= query.limit:
                break
        if not picked:
            raise ServiceUnavailableError("no source could answer", retry_after=30)
        response = RecommendationResponse(
            products=picked,
            modelVersion=version,
            generatedAt=pointer.generated_at,
            source=used[0] if used else None,
            recommendationId=self._new_id(),
        )
        return Outcome(response, stats, used, personalized=bool(PERSONAL_SOURCES & set(used)))

    @staticmethod
    def _plan(
        chain: Sequence[str],
        user: str | None,
        query: RecommendationQuery,
        recent: list[str],
        category: str | None,
    ) -> dict[str, list[str]]:
        plan: dict[str, list[str]] = {}
        for source in chain:
            if source == "user" and user:
                plan[source] = [user_pk(user)]
            elif source == "session" and recent:
                plan[source] = [similar_pk(p) for p in recent]
            elif source == "similar" and query.productId:
                plan[source] = [similar_pk(query.productId)]
            elif source == "bought-together":
                seeds = query.cartProductIds or ([query.productId] if query.productId else [])
                plan[source] = [bought_together_pk(p) for p in seeds]
            elif source == "cart-similar":
                plan[source] = [similar_pk(p) for p in query.cartProductIds]
            elif source == "category-popular" and category:
                plan[source] = [popular_pk(category)]
            elif source == "popular":
                plan[source] = [popular_pk(ALL_CATEGORIES)]
            elif source == "trending":
                plan[source] = [trending_pk(ALL_CATEGORIES)]
        return plan

    @staticmethod
    def _candidates(source: str, pks: Sequence[str], lists: Mapping[str, Items]) -> Items:
        present = [lists[pk] for pk in pks if pk in lists]
        if not present:
            return []
        if len(present) == 1:
            items = present[0]
        else:
            # Several seed lists (recent products, cart items): sum scores, keep the best reason.
            merged: dict[str, tuple[float, str | None]] = {}
            for items_of_seed in present:
                for product, score, reason in items_of_seed:
                    total, _ = merged.get(product, (0.0, reason))
                    merged[product] = (total + score, reason)
            items = sorted(((p, s, r) for p, (s, r) in merged.items()), key=lambda x: (-x[1], x[0]))
        if source == "session":
            return [(p, s, Reason.SESSION.value) for p, s, _ in items]
        return items
