"""GET /api/recommendations: the best list that can be had right now.

One request, in order:

1. the current version (memory, refreshed every few seconds) and the visitor's experiment
   variant, which may replace the context's chain of sources;
2. one fetch of everything the chain can use that is known up front: the user's opt-out flag,
   their precomputed list and purchases (and, when the version is a delta, its base's: a user
   without a row of the version is served the base's), the visitor's live session signal, the
   lists seeded by the product on screen or the cart, popular and trending (one cache MGET on a
   warm container);
3. a second fetch only for what depends on the first: neighbours of the session's recent
   products, the category of current interest, with a brand, tag or price filter the popular
   and trending lists of the brand's, the tag's or the price range's categories, and with a
   parent category its subcategories' lists (mostly from memory);
4. the fill: sources in chain order, up to `limit`, duplicates and filtered products skipped
   (products blocked by a merchandising rule among them);
5. the context's active rules: boosts and buries re-rank a deeper fill's candidates, pins place
   their products (`recs.serving.rules`; the rules are read at most once per cache TTL).

Opted-out users get no personal source (their precomputed list, session signal and purchases
are not even read); lists about the product on screen or the cart are not personal data and are
still served to them (docs/serving.md).
"""

from __future__ import annotations

from collections import ChainMap, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

from recs.contracts.recommendations import Reason, RecommendationResponse, Relation
from recs.errors import InvalidRequestError, ServiceUnavailableError, StoreUnavailableError
from recs.serving.attribution import RecommendationId, random_nonce
from recs.serving.experiments import Experiments
from recs.serving.query import RecommendationQuery
from recs.serving.ranking import (
    SESSION_RECENCY,
    Anchor,
    Filters,
    LazyItems,
    blend,
    category_counts,
    fill,
    merge_weighted,
    mix_in,
    session_neighbours,
    subcategories,
)
from recs.serving.repository import Fetched, Items, ListRepository, Pointer, ReadStats, Recent, Want
from recs.serving.rules import NO_RULES, ContextRules, RuleCache
from recs.serving.sources import PERSONAL_SOURCES, Chains, Source
from recs.store_layout import (
    ALL_CATEGORIES,
    CATALOG_FEED_PREFIXES,
    SHOP_WIDE_PREFIXES,
    AttributeMap,
    Attributes,
    attribute_similar_pk,
    bought_together_pk,
    cache_key,
    new_arrivals_pk,
    popular_pk,
    purchased_pk,
    similar_pk,
    trending_pk,
    user_pk,
)


class Pseudonyms(Protocol):
    """What serving needs of pseudonymisation: the visitor's two ids."""

    def user(self, raw: str) -> str: ...

    def anon(self, raw: str) -> str: ...


BUY_AGAIN = Reason.BUY_AGAIN.value
SESSION = Reason.SESSION.value
RULE = Reason.RULE.value

#: With a brand filter (and no category filter), the popular and trending lists of up to this
#: many of the brands' categories (most of their products first) are merged into the shop-wide
#: ones: candidates deep enough that a brand's list stays full (docs/serving.md, Filters).
BRAND_CATEGORY_LISTS = 8
#: Likewise with a price filter (and no brand or category filter): up to this many of the
#: categories with most products in the price bands the range meets.
PRICE_CATEGORY_LISTS = 8
#: Likewise with a tag filter (and no brand or category filter): up to this many of the tags'
#: categories, each tag's next in turn.
TAG_CATEGORY_LISTS = 8
#: With a category filter naming a parent category (a path with categories below it), the
#: popular, trending and new-arrival lists of up to this many of its subcategories (most products
#: first) are merged with its own: lists are per leaf category, so a parent's list stays full.
SUBCATEGORY_LISTS = 8


@dataclass(frozen=True)
class ServingOptions:
    exclude_purchased: bool
    session_seeds: int
    session_weight: float
    rerank_weight: float
    session_recency: float = SESSION_RECENCY
    #: Share of a homepage list's slots given to new arrivals (products no model knows yet).
    new_arrivals_share: float = 0.0
    #: Per context, the most products of one category in a list (`ranking.fill`); 0 = none.
    diversity_caps: Mapping[str, int] = field(default_factory=dict)

    def diversity_cap(self, context: str) -> int:
        return int(self.diversity_caps.get(context, 0))


@dataclass
class Outcome:
    """The response and everything the handler logs and measures about it."""

    response: RecommendationResponse
    stats: ReadStats
    context: str
    identity: str  # user, anonymous or none
    visitor: str | None  # the pseudonym; never the raw id
    opted_out: bool
    sources_used: list[str] = field(default_factory=list)
    identity_unavailable: bool = False
    #: Products of the list that are new arrivals mixed in by `NEW_ARRIVALS_SHARE`.
    new_arrivals: int = 0
    #: Products of the list a merchandising rule placed or moved.
    ruled: int = 0
    #: The rules store could not be read: served with the last rules read (or none).
    rules_unavailable: bool = False

    @property
    def personalized(self) -> bool:
        return bool({s.value for s in PERSONAL_SOURCES} & set(self.sources_used))


@dataclass
class _Visitor:
    user: str | None = None
    anon: str | None = None
    unavailable: bool = False


class RecommendService:
    def __init__(
        self,
        repository: ListRepository,
        pseudonyms: Pseudonyms,
        *,
        chains: Chains,
        experiments: Experiments,
        options: ServingOptions,
        new_nonce: Callable[[], str] = random_nonce,
        rules: RuleCache | None = None,
    ) -> None:
        self._repo = repository
        self._rules = rules
        self._pseudonyms = pseudonyms
        self._chains = chains
        self._experiments = experiments
        self._options = options
        self._new_nonce = new_nonce
        #: The options of the current version (its learned session constants), made once per
        #: pointer rather than per request.
        self._learned: tuple[Pointer, ServingOptions] | None = None

    def _options_of(self, pointer: Pointer) -> ServingOptions:
        """The configured options with the version's own session constants, when training chose
        them on the shop's validation visits (`recs.training.fit.session_lists`)."""
        if pointer.session is None:
            return self._options
        if self._learned is None or self._learned[0] is not pointer:
            seeds, recency = pointer.session
            self._learned = (pointer, replace(self._options, session_seeds=seeds, session_recency=recency))
        return self._learned[1]

    def recommend(self, query: RecommendationQuery) -> Outcome:
        stats = ReadStats()
        control = self._repo.control(stats)
        if control.pointer is None:
            raise ServiceUnavailableError("no model has been published yet", retry_after=60)
        version = control.pointer.version
        context = query.effective_context
        assignment = self._experiments.assign(context, _experiment_subject(query))
        chain = list((assignment.chains if assignment else self._chains).of(context))
        visitor = self._identify(query)
        ruled = self._rules.for_context(context) if self._rules is not None else NO_RULES
        plan = _Plan(
            version,
            query,
            chain,
            visitor,
            self._options_of(control.pointer),
            control.pointer.shop_wide_version,
            control.catalog_version,
            control.pointer.personal_base,
            control.pointer.lists_table,
            ruled,
        )

        first = self._repo.fetch(plan.first_wants(), stats)
        opted_out = plan.apply_first(first)
        second = plan.second_wants()
        if second:
            plan.apply_second(self._repo.fetch(second, stats))

        filters = Filters(
            excluded=frozenset(
                {p for p in (query.productId, *query.cartProductIds, *query.excludeProductIds) if p}
                | control.unavailable
                | ruled.blocked
            ),
            purchased=frozenset(plan.purchased) if self._options.exclude_purchased else frozenset(),
            categories=frozenset(query.category_filter),
            catalog=plan.catalog,
            max_per_category=self._options.diversity_cap(context),
            brands=frozenset(query.brands),
            tags=frozenset(query.tags),
            min_price=query.minPrice,
            max_price=query.maxPrice,
            attributes=plan.attributes,
        )
        # Deeper with boosts or buries: they choose the list among more candidates.
        depth = ruled.depth(query.limit)
        filled = fill(((s.value, plan.candidates(s)) for s in plan.chain), depth, filters, plan.anchor_of)
        rule_ids: dict[str, str] = {}
        if depth > query.limit:
            filled.products = ruled.rerank(
                filled.products,
                catalog=plan.catalog,
                attributes=plan.attributes,
                limit=query.limit,
                ruled=rule_ids,
            )
        new_arrivals = 0
        if context == "homepage" and filled.products:
            # Non-personal (the shop's newest products), so opted-out shoppers get them too.
            new_arrivals = mix_in(
                filled,
                plan.new_arrivals(),
                self._options.new_arrivals_share,
                query.limit,
                filters,
                Source.NEW_ARRIVALS.value,
            )
        if ruled.pins and filled.products:
            filled.products = ruled.place_pins(
                filled.products, filters, catalog=plan.catalog, limit=query.limit, ruled=rule_ids
            )
        if rule_ids:
            # Only the products still listed (new arrivals may have taken a ruled one's place).
            listed = {product for product, _, _ in filled.products}
            rule_ids = {product: rule for product, rule in rule_ids.items() if product in listed}
        if not filled.answered:
            if query.category_filter and not stats.store_errors:
                # Every store answered and none has a list of these categories: the caller's
                # mistake (an unknown category), not an outage.
                field = "category" if query.category is not None else "categories"
                raise InvalidRequestError(
                    "unknown category", {field: "no product of this category is on sale"}, status=404
                )
            raise ServiceUnavailableError("no source could answer", retry_after=30)
        source = (filled.used or filled.answered)[0]
        recommendation_id = RecommendationId.new(
            context,
            source,
            assignment.experiment if assignment else None,
            assignment.variant if assignment else None,
            self._new_nonce,
        )
        # One validation call for the whole response (pydantic-core), not one per product.
        response = RecommendationResponse.model_validate(
            {
                "products": [
                    {
                        "id": p,
                        "score": s,
                        "reason": r or None,
                        "ruleId": rule_ids.get(p),
                        "basedOn": _based_on(filled.anchors.get(p), r),
                    }
                    for p, s, r in filled.products
                ],
                "modelVersion": version,
                "generatedAt": control.pointer.generated_at,
                "source": source,
                "recommendationId": str(recommendation_id),
                "variant": assignment.variant if assignment else None,
                "experiment": assignment.experiment if assignment else None,
            }
        )
        return Outcome(
            response=response,
            stats=stats,
            context=context,
            identity="user" if query.userId else "anonymous" if query.anonId else "none",
            visitor=visitor.user or visitor.anon,
            opted_out=opted_out,
            sources_used=filled.used,
            identity_unavailable=visitor.unavailable,
            new_arrivals=new_arrivals,
            ruled=len(rule_ids),
            rules_unavailable=self._rules is not None and self._rules.unavailable,
        )

    def _identify(self, query: RecommendationQuery) -> _Visitor:
        try:
            return _Visitor(
                user=self._pseudonyms.user(query.userId) if query.userId else None,
                anon=self._pseudonyms.anon(query.anonId) if query.anonId else None,
            )
        except StoreUnavailableError:
            # Without the key nobody can be recognised: serve the non-personalized sources.
            return _Visitor(unavailable=True)


#: Products per category of the category maps last read, by map object (`_category_counts`).
_COUNTS_BY_MAP: OrderedDict[int, tuple[Mapping[str, str], dict[str, int]]] = OrderedDict()
#: Maps whose counts are held: the run's and the catalog feed's, with room for the next versions.
_COUNTS_HELD = 4


def _category_counts(catalog: Mapping[str, str]) -> dict[str, int]:
    """Products per category of a category map, counted once per map: the repository keeps a
    version's decoded map in memory and hands the same object to every request (a version's rows
    never change), so a parent category's request scans the categories (hundreds), not the
    products. Held by identity with the map itself, so a freed map's id never finds its counts."""
    held = _COUNTS_BY_MAP.get(id(catalog))
    if held is not None and held[0] is catalog:
        return held[1]
    counts = category_counts(catalog)
    _COUNTS_BY_MAP[id(catalog)] = (catalog, counts)
    while len(_COUNTS_BY_MAP) > _COUNTS_HELD:
        _COUNTS_BY_MAP.popitem(last=False)
    return counts


def _subcategories(maps: list[Mapping[str, str]], parents: tuple[str, ...]) -> list[str]:
    """The subcategories whose lists a parent category merges: those with most products, summed
    over the maps read (the run's and the catalog feed's), up to `SUBCATEGORY_LISTS`."""
    counts: dict[str, int] = {}
    for catalog in maps:
        for category, products in _category_counts(catalog).items():
            counts[category] = counts.get(category, 0) + products
    return subcategories(counts, parents, SUBCATEGORY_LISTS)


def _price_categories(maps: list[AttributeMap], low: float | None, high: float | None) -> list[str]:
    """The categories with most products in the price bands [low, high] meets, summed over the
    maps read (each has its own bands), up to `PRICE_CATEGORY_LISTS`."""
    counts: dict[str, int] = {}
    for attribute_map in maps:
        for category, products in attribute_map.price_bands.categories_within(low, high).items():
            counts[category] = counts.get(category, 0) + products
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [category for category, _ in ranked[:PRICE_CATEGORY_LISTS]]


def _based_on(anchor: Anchor | None, reason: str | None) -> dict[str, str] | None:
    """The response's `basedOn`: a product's anchor, unless a rule placed or moved it (then the
    rule is the explanation)."""
    if anchor is None or reason == RULE:
        return None
    return {"productId": anchor[0], "relation": anchor[1]}


def _experiment_subject(query: RecommendationQuery) -> str | None:
    """The id a visitor is assigned by: the user id when signed in, else the anonymous id."""
    if query.userId:
        return "u:" + query.userId
    if query.anonId:
        return "a:" + query.anonId
    return None


def _newest_per_product(newest_first: list[Recent]) -> list[Recent]:
    """Each product once, at its most recent event (a user's and an anonymous session may overlap)."""
    seen: set[str] = set()
    unique = []
    for recent in newest_first:
        if recent[0] not in seen:
            seen.add(recent[0])
            unique.append(recent)
    return unique


class _PersonalRow(NamedTuple):
    """A user's row (their list or their purchases) as the serving version publishes it: its own
    row, and when the version is a delta (it wrote only the rows that changed since its base, the
    last full publish) the base's row, read in the same fetch."""

    own: Want
    base: Want | None

    @classmethod
    def of(cls, version: str, base_version: str | None, pk: str, table: str = "") -> _PersonalRow:
        """`table`: where the version's own rows are (an imported version's table; its base is
        always itself, `recs.training.publish.table_imports`)."""
        base = Want.personal_list(base_version, pk) if base_version else None
        return cls(Want.personal_list(version, pk, table), base)

    def wants(self) -> list[Want]:
        return [self.own] if self.base is None else [self.own, self.base]

    def items(self, fetched: Fetched) -> Items:
        """The version's row when it has one, even an empty one (the list was emptied since the
        base: the base's must not show); else the base's; else nothing. A version's row that could
        not be read is not replaced by the base's: it may have been such an empty row."""
        own: Items | None = fetched.get(self.own)
        if own is not None:
            return own
        if self.base is None or self.own.cache_key in fetched.failed:
            return []
        base: Items | None = fetched.get(self.base)
        return base or []


class _Plan:
    """What one request reads and how it turns what was read into each source's candidates."""

    def __init__(
        self,
        version: str,
        query: RecommendationQuery,
        chain: list[Source],
        visitor: _Visitor,
        options: ServingOptions,
        shop_wide_version: str | None = None,
        catalog_version: str | None = None,
        base_version: str | None = None,
        lists_table: str = "",
        rules: ContextRules = NO_RULES,
    ) -> None:
        self.version = version
        # Popular, trending and the catalog map may come from a newer run than personal lists.
        self.shop_wide_version = shop_wide_version or version
        # The catalog feed's lists (new arrivals, attribute-similar items, the live category map).
        self.catalog_version = catalog_version
        self.query = query
        self.chain = chain
        self.options = options
        self.lists: dict[str, Items] = {}
        self.requested: set[str] = set()
        self.user_items: Items = []
        self.recent: list[Recent] = []
        self.purchased: set[str] = set()
        self.catalog: dict[str, str] = {}
        #: product -> [brand, price], the catalog feed's over the last run's (brand/price filters).
        self.attributes: Mapping[str, Attributes] = {}
        #: The categories whose popular and trending lists deepen a brand, tag or price filter's
        #: candidates (the brands', else the tags', else the price range's).
        self.deepening: list[str] = []
        #: The categories below the category filter's (a parent's), whose lists are merged with it.
        self.subcategories: list[str] = []
        # The category of interest: the filter's when it names one, else found from what the
        # shopper looks at (several categories: each has its own lists merged instead).
        self.interest: str | None = query.category_filter[0] if len(query.category_filter) == 1 else None
        self._session_items: Items | None = None
        #: Per merged source, each candidate's anchor (the seed list it owes most of its score to).
        self._anchors: dict[Source, dict[str, Anchor]] = {
            Source.SESSION: {},
            Source.BOUGHT_TOGETHER: {},
            Source.CART_SIMILAR: {},
        }
        user, anon = visitor.user, visitor.anon
        uses_user = Source.USER in chain or (
            Source.SIMILAR in chain and options.rerank_weight > 0 and query.productId is not None
        )
        # Either id's opt-out (a user's, or one made with a signed anonymous id by the holder of
        # this browser's id) makes the request non-personal: privacy first.
        self._optouts = [Want.optout(v) for v in (user, anon) if v]
        # A delta version's users' rows fall back to its base's (`base_version`, the pointer's
        # `baseVersion`): one more key each, in the same fetch.
        self._user_list = (
            _PersonalRow.of(version, base_version, user_pk(user), lists_table) if user and uses_user else None
        )
        self._purchases = (
            _PersonalRow.of(version, base_version, purchased_pk(user), lists_table)
            if user and options.exclude_purchased
            else None
        )
        wants_session = bool({Source.USER, Source.SESSION} & set(chain)) or options.exclude_purchased
        self._sessions = [Want.session(v) for v in (user, anon) if v and wants_session]
        needs_catalog = (
            bool(query.category_filter)
            or rules.needs_catalog
            or options.diversity_cap(query.effective_context) > 0
            or (
                Source.CATEGORY_POPULAR in chain
                and bool(query.productId or query.cartProductIds or self._sessions or self._user_list)
            )
        )
        # The last run's category map, and the catalog feed's (products added since) over it.
        versions = dict.fromkeys(v for v in (self.shop_wide_version, self.catalog_version) if v)
        self._catalogs = [Want.catalog(v) for v in versions] if needs_catalog else []
        # The attribute maps likewise, only for a brand or price filter (or a brand rule).
        self._attribute_maps = (
            [Want.attributes(v) for v in versions]
            if query.filters_attributes or rules.needs_attributes
            else []
        )

    # -- what to read -------------------------------------------------------------------------
    def _version_of(self, pk: str) -> str:
        if self.catalog_version and pk.startswith(CATALOG_FEED_PREFIXES):
            return self.catalog_version
        return self.shop_wide_version if pk.startswith(SHOP_WIDE_PREFIXES) else self.version

    def _new_arrivals_pks(self) -> list[str]:
        return self._scoped(new_arrivals_pk)

    def new_arrivals(self) -> Items:
        """The catalog feed's newest products (in the filter's categories if given)."""
        return self._merged(self._new_arrivals_pks()) if self.catalog_version else []

    def _list(self, pk: str) -> Want:
        return Want.list(self._version_of(pk), pk)

    def _scoped(self, list_pk: Callable[[str], str]) -> list[str]:
        """Popular/trending/new arrivals: the filter's own lists when categories are given, and
        those of their subcategories once the category map is read (merged when several)."""
        scoped = [*self.query.category_filter, *self.subcategories]
        return [list_pk(c) for c in scoped] or [list_pk(ALL_CATEGORIES)]

    def _deepened(self, list_pk: Callable[[str], str]) -> list[str]:
        """Popular/trending as filled: `_scoped`, and with a brand or price filter the lists of its
        categories (`deepening`) too, merged, so more than the shop-wide list's few products of a
        brand or a price range are found."""
        return self._scoped(list_pk) + [list_pk(c) for c in self.deepening]

    def _contextual_pks(self) -> list[str]:
        query, pks = self.query, []
        for source in self.chain:
            if source is Source.SIMILAR and query.productId:
                pks.append(similar_pk(query.productId))
                if self.catalog_version:
                    # A product added since the last run has no SIM# list; the feed's may exist.
                    pks.append(attribute_similar_pk(query.productId))
            elif source is Source.BOUGHT_TOGETHER:
                pks.extend(bought_together_pk(p) for p in self._cart_or_product())
            elif source is Source.CART_SIMILAR:
                pks.extend(similar_pk(p) for p in query.cartProductIds)
            elif source is Source.POPULAR:
                pks.extend(self._scoped(popular_pk))
            elif source is Source.TRENDING:
                pks.extend(self._scoped(trending_pk))
            elif source is Source.CATEGORY_POPULAR and self.interest:
                pks.append(popular_pk(self.interest))
            elif source is Source.NEW_ARRIVALS and self.catalog_version:
                pks.extend(self._new_arrivals_pks())
        homepage = self.query.effective_context == "homepage"
        if self.catalog_version and self.options.new_arrivals_share > 0 and homepage:
            pks.extend(self._new_arrivals_pks())  # mixed into the homepage list after the fill
        return pks

    def _cart_or_product(self) -> tuple[str, ...]:
        if self.query.cartProductIds:
            return self.query.cartProductIds
        return (self.query.productId,) if self.query.productId else ()

    def first_wants(self) -> list[Want]:
        personal = list(self._optouts)
        for row in (self._user_list, self._purchases):
            if row is not None:
                personal.extend(row.wants())
        catalog = [*self._catalogs, *self._attribute_maps]
        return [*personal, *self._sessions, *catalog, *self._lists_wanted(self._contextual_pks())]

    def _lists_wanted(self, pks: list[str]) -> list[Want]:
        wants = [want for want in map(self._list, pks) if want.cache_key not in self.requested]
        self.requested.update(w.cache_key for w in wants)
        return wants

    def apply_first(self, fetched: Fetched) -> bool:
        """Take in the first fetch; returns whether the user opted out."""
        # An unreadable preference counts as an opt-out: privacy first.
        opted_out = any(
            fetched.get(want) is True or want.cache_key in fetched.failed for want in self._optouts
        )
        if opted_out:
            # Nothing personal is used, not even to re-rank or to filter.
            self.chain = [s for s in self.chain if s not in PERSONAL_SOURCES]
        else:
            if self._user_list is not None:
                self.user_items = self._user_list.items(fetched)
            newest_first = sorted(
                (r for want in self._sessions for r in (fetched.get(want) or [])),
                key=lambda r: r[2],
                reverse=True,
            )
            self.recent = _newest_per_product(newest_first)
            # From every entry: a product bought and then viewed again stays filtered.
            self.purchased = {p for p, event, _ in newest_first if event == "purchase"}
            if self._purchases is not None:
                self.purchased |= {p for p, _, _ in self._purchases.items(fetched)}
        maps = [m for m in map(fetched.get, self._catalogs) if m]
        for catalog in maps:
            self.catalog = {**self.catalog, **catalog}
        if self.query.category_filter:
            self.subcategories = _subcategories(maps, self.query.category_filter)
        if self._attribute_maps:
            self._take_attributes([m for m in map(fetched.get, self._attribute_maps) if m is not None])
        self._keep_lists(fetched)
        if self.interest is None:
            self.interest = self._interest_category()
        return opted_out

    def _take_attributes(self, maps: list[AttributeMap]) -> None:
        """The attribute maps read (the last run's, then the catalog feed's): the newer one's
        products first, without copying either (a large catalog's map is big); and, for a brand
        or price filter without categories, the categories whose lists are read next."""
        newest_first = [m.products for m in reversed(maps)]
        if len(newest_first) > 1:
            self.attributes = ChainMap(*newest_first)
        elif newest_first:
            self.attributes = newest_first[0]
        if self.query.category_filter:
            return
        if self.query.brands:
            keyed = [m.brand_categories for m in reversed(maps)]
            keys, bound = self.query.brands, BRAND_CATEGORY_LISTS
        elif self.query.tags:
            keyed = [m.tag_categories for m in reversed(maps)]
            keys, bound = self.query.tags, TAG_CATEGORY_LISTS
        else:
            if self.query.minPrice is not None or self.query.maxPrice is not None:
                self.deepening = _price_categories(maps, self.query.minPrice, self.query.maxPrice)
            return
        per_key = [list(dict.fromkeys(c for m in keyed for c in m.get(key, ()))) for key in keys]
        # In turn, each brand's (tag's) next category, so several share the lists read.
        chosen: dict[str, None] = {}
        for rank in range(max(map(len, per_key), default=0)):
            for categories in per_key:
                if rank < len(categories):
                    chosen.setdefault(categories[rank])
        self.deepening = list(chosen)[:bound]

    def _interest_category(self) -> str | None:
        """The category of what the shopper is looking at now (for category-popular)."""
        seeds = [
            self.query.productId,
            *self.query.cartProductIds,
            *(r[0] for r in self.recent),
            # A user with little history: the category of what their own list likes best.
            *(item[0] for item in self.user_items[:1]),
        ]
        return next((self.catalog[p] for p in seeds if p and p in self.catalog), None)

    def _session_seeds(self) -> list[Recent]:
        if not {Source.USER, Source.SESSION} & set(self.chain):
            return []
        return self.recent[: self.options.session_seeds]

    def second_wants(self) -> list[Want]:
        pks = [similar_pk(product) for product, _, _ in self._session_seeds()]
        if self.subcategories:
            # The subcategories' popular, trending and new-arrival lists (those already read skipped).
            pks.extend(self._contextual_pks())
        if Source.CATEGORY_POPULAR in self.chain and self.interest:
            pks.append(popular_pk(self.interest))
        if Source.POPULAR in self.chain:
            pks.extend(map(popular_pk, self.deepening))
        if Source.TRENDING in self.chain:
            pks.extend(map(trending_pk, self.deepening))
        return self._lists_wanted(pks)

    def apply_second(self, fetched: Fetched) -> None:
        self._keep_lists(fetched)

    def _keep_lists(self, fetched: Fetched) -> None:
        """Keep the non-personal lists that were found (personal rows are taken explicitly)."""
        for key in self.requested:
            value = fetched.values.get(key)
            if value:
                self.lists[key] = value

    def _get(self, pk: str) -> Items:
        return self.lists.get(cache_key(self._version_of(pk), pk), [])

    # -- candidates per source ----------------------------------------------------------------
    def candidates(self, source: Source) -> LazyItems:
        producers: dict[Source, LazyItems] = {
            Source.USER: self._user,
            Source.SESSION: self._session,
            Source.SIMILAR: self._similar,
            Source.BOUGHT_TOGETHER: lambda: self._anchored(
                Source.BOUGHT_TOGETHER, bought_together_pk, self._cart_or_product()
            ),
            Source.CART_SIMILAR: lambda: self._anchored(
                Source.CART_SIMILAR, similar_pk, self.query.cartProductIds
            ),
            Source.CATEGORY_POPULAR: lambda: self._get(popular_pk(self.interest)) if self.interest else [],
            Source.POPULAR: lambda: self._merged(self._deepened(popular_pk)),
            Source.TRENDING: lambda: self._merged(self._deepened(trending_pk)),
            Source.NEW_ARRIVALS: self.new_arrivals,
        }
        return producers[source]

    def _user(self) -> Items:
        """The user's list adjusted by the live session: neighbours of what they just looked at.

        A buy-again product keeps its reason even when the session lifts it more than their
        list does: the reason is what lets a product they bought through the purchase filter,
        so taking the session's would drop exactly the products a repeat shopper comes back for.
        """
        if not self.user_items:
            return []
        blended = blend(
            self.user_items,
            self._session(),
            self.options.session_weight,
            other_reason=Reason.SESSION.value,
            keep_base_only=False,
        )
        again = {product for product, _, reason in self.user_items if reason == BUY_AGAIN}
        if not again:
            return blended
        return [(p, s, BUY_AGAIN if p in again else r) for p, s, r in blended]

    def _session(self) -> Items:
        """Neighbours of the recent products, weighted by event type and recency."""
        if self._session_items is None:
            self._session_items = self._neighbours_of_recent()
        return self._session_items

    def _neighbours_of_recent(self) -> Items:
        return session_neighbours(
            [(product, event) for product, event, _ in self._session_seeds()],
            lambda product: self._get(similar_pk(product)),
            limit=self.query.limit,
            recency=self.options.session_recency,
            recent={product for product, _, _ in self.recent},
            anchored=self._anchors[Source.SESSION],
        )

    def _similar(self) -> Items:
        """Similar to the product on screen, re-ranked by the user's own list when known."""
        if not self.query.productId:
            return []
        similar = self._get(similar_pk(self.query.productId))
        if not similar and self.catalog_version:
            similar = self._get(attribute_similar_pk(self.query.productId))
        return blend(
            similar,
            self.user_items,
            self.options.rerank_weight,
            other_reason=None,
            keep_base_only=True,
        )

    # -- anchors (the response's basedOn) -----------------------------------------------------
    def anchor_of(self, source: str, product: str, reason: str | None) -> Anchor | None:
        """What a product picked from `source` is based on: the product on screen, the cart item
        or the visitor's own recent product whose list it came from, or itself for buy-again.
        Only the request's products and the visitor's own signal are anchors (an opted-out
        visitor's chain has no personal source, so never a personal anchor)."""
        if source == Source.SIMILAR:
            return (self.query.productId, Relation.VIEWED.value) if self.query.productId else None
        if source == Source.USER:
            if reason == BUY_AGAIN:
                return (product, Relation.BOUGHT.value)
            # A product the live session lifted above the list's own score.
            return self._anchors[Source.SESSION].get(product) if reason == SESSION else None
        anchors = self._anchors.get(Source(source))
        return anchors.get(product) if anchors is not None else None

    def _anchored(self, source: Source, list_pk: Callable[[str], str], seeds: tuple[str, ...]) -> Items:
        """The merged lists of `seeds` (the cart's items, or the product on screen), each candidate
        anchored to the seed that contributed most to it."""
        relation = Relation.IN_CART.value if self.query.cartProductIds else Relation.VIEWED.value
        present = [(seed, items) for seed, items in ((s, self._get(list_pk(s))) for s in seeds) if items]
        anchored = self._anchors[source]
        if len(present) == 1:
            seed, items = present[0]
            anchored.update((product, (seed, relation)) for product, _, _ in items)
            return items
        return merge_weighted(
            [(items, 1.0) for _, items in present],
            anchors=[(seed, relation) for seed, _ in present],
            anchored=anchored,
        )

    def _merged(self, pks: list[str]) -> Items:
        present = [items for items in (self._get(pk) for pk in pks) if items]
        if len(present) == 1:
            return present[0]
        return merge_weighted([(items, 1.0) for items in present])
