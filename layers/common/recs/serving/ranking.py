"""Pure list arithmetic for serving: merging seed lists, blending, re-ranking and filling.

Every source's scores live on their own scale (cosine similarities, co-occurrence counts,
distinct buyers), so each list is first normalised by its best score to (0, 1]; blends are
convex combinations of normalised scores. The filled response's scores are made
non-increasing down the list, so a client that sorts by score keeps the served order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from operator import itemgetter
from types import MappingProxyType

from recs.contracts.recommendations import Reason, Relation
from recs.serving.repository import Items
from recs.store_layout import BRAND, PRICE, TAGS, Attributes

#: How strongly a recent event says "show me more like this". Training's weights, except that a
#: purchase is weak here: more of what was just bought is rarely what the shopper wants next.
SESSION_INTEREST = {
    "add_to_cart": 3.0,
    "click": 2.0,
    "search_result_click": 2.0,
    "view": 1.0,
    "purchase": 1.0,
}

#: Neighbours of each recent product considered (at least twice the limit).
SESSION_NEIGHBOURS = 20

#: Recent products whose neighbours feed the session source (RecommendSettings'
#: session_seed_products default; bench/session_quality.py, run of 2026-12-05, chose 8).
SESSION_SEEDS = 8

#: How fast older recent products fade: the seed at recency rank r (0 = newest) weighs
#: SESSION_INTEREST[event] / (1 + r) ** SESSION_RECENCY. bench/session_quality.py (run of
#: 2026-12-05) kept 1 on the pooled validation sessions of its two shops: the best of 0, 0.25,
#: 0.5, 1 and 2 (a discovery shop alone leans to 0.25, a grocery alone to 1).
SESSION_RECENCY = 1.0

#: Diversity caps per context (`Filters.max_per_category`); RecommendSettings' default. None:
#: bench/diversity.py (run at 2246c1c) found every cap of 1 to 5 a measurable NDCG@10 loss on
#: The Complete Journey, 5 being the only one without a loss on the synthetic shops it chooses
#: on (docs/serving.md, Diversity). A shop that values variety sets DIVERSITY_CAPS itself.
DEFAULT_DIVERSITY_CAPS: Mapping[str, int] = MappingProxyType({})

#: What a recommendation is based on: (product id, `Relation` value), e.g. the product on screen
#: and "viewed" (the response's `basedOn`).
Anchor = tuple[str, str]
#: The anchor of a candidate, by (source, product, reason), or None: how `fill` learns them.
AnchorOf = Callable[[str, str, str | None], Anchor | None]

#: A ranked list as any source gives it: (product, score, reason), best first.
Ranked = Sequence[tuple[str, float, str | None]]
#: Candidates of one source, produced only when the fill reaches that source.
LazyItems = Callable[[], Ranked]


def _best(items: Ranked) -> float:
    return max(items, key=_SCORE)[1] if items else 0.0


def normalised(items: Ranked) -> Items:
    """Scores divided by the list's best score."""
    top = _best(items)
    if top <= 0:
        return [(product, 1.0, reason) for product, _, reason in items]
    scale = 1.0 / top
    return [(product, score * scale, reason) for product, score, reason in items]


def merge_weighted(
    lists: Sequence[tuple[Ranked, float]],
    reason: str | None = None,
    *,
    anchors: Sequence[Anchor] | None = None,
    anchored: dict[str, Anchor] | None = None,
) -> Items:
    """Several seed lists (e.g. neighbours of each recent product) as one ranking.

    Each list is normalised and weighted; a product's score is the sum over the lists it is in,
    its reason the one of its largest contribution (or `reason` when given). Ties break by id,
    so the order is deterministic. With `anchors` (each list's seed, in the order of `lists`),
    `anchored` receives each product's anchor: the seed of its largest contribution (the first
    list's on a tie).
    """
    totals: dict[str, float] = {}
    if reason is not None and (anchors is None or anchored is None):
        # One reason for all and no anchors: only the sums are needed (the session's hot path).
        total = totals.get
        for items, weight in lists:
            top = _best(items)
            if top <= 0 or weight <= 0:
                continue
            scale = weight / top
            for product, score, _ in items:
                totals[product] = total(product, 0.0) + score * scale
        return _best_first([(product, score, reason) for product, score in totals.items()])
    if reason is not None and anchors is not None and anchored is not None:
        # One reason for all, with anchors (the session's hot path since basedOn): only each
        # product's sum and its largest contribution's list are needed, not its reason.
        strongest: dict[str, tuple[float, int]] = {}
        best_of = strongest.get
        for index, (items, weight) in enumerate(lists):
            top = _best(items)
            if top <= 0 or weight <= 0:
                continue
            scale = weight / top
            for product, score, _ in items:
                contribution = score * scale
                so_far = best_of(product)
                if so_far is None:
                    totals[product] = contribution
                    strongest[product] = (contribution, index)
                else:
                    totals[product] += contribution
                    if contribution > so_far[0]:
                        strongest[product] = (contribution, index)
        anchored.update({product: anchors[index] for product, (_, index) in strongest.items()})
        return _best_first([(product, score, reason) for product, score in totals.items()])
    best: dict[str, tuple[float, str | None, int]] = {}
    for index, (items, weight) in enumerate(lists):
        top = _best(items)
        if top <= 0 or weight <= 0:
            continue
        scale = weight / top
        for product, score, item_reason in items:
            contribution = score * scale
            previous = totals.get(product)
            if previous is None:
                totals[product] = contribution
                best[product] = (contribution, item_reason, index)
            else:
                totals[product] = previous + contribution
                if contribution > best[product][0]:
                    best[product] = (contribution, item_reason, index)
    if anchors is not None and anchored is not None:
        anchored.update((product, anchors[index]) for product, (_, _, index) in best.items())
    if reason is not None:
        return _best_first([(product, score, reason) for product, score in totals.items()])
    return _best_first([(product, score, best[product][1]) for product, score in totals.items()])


def blend(
    base: Ranked, other: Ranked, weight: float, *, other_reason: str | None, keep_base_only: bool
) -> Items:
    """``(1 - weight) * base + weight * other`` on normalised scores.

    A product takes the reason of the list that contributed more to it (`other_reason` for the
    other list when given). With `keep_base_only` the other list only re-ranks the base list's
    products, which keep their reason (a product page stays about the product on screen).
    """
    if not other or weight <= 0:
        return list(base)
    base_top, other_top = _best(base), _best(other)
    base_scale = (1 - weight) / base_top if base_top > 0 else 0.0
    other_scale = weight / other_top if other_top > 0 else 0.0
    blended: list[tuple[str, float, str | None]] = []
    append = blended.append
    if keep_base_only:
        # Only the other list's scores matter: its reasons never show.
        parts = {p: s * other_scale for p, s, _ in other}
        part = parts.pop
        for product, score, reason in base:
            append((product, score * base_scale + part(product, 0.0), reason))
        return _best_first(blended)
    others = {p: (s * other_scale, other_reason or r) for p, s, r in other}
    take = others.pop
    for product, score, reason in base:
        b_part = score * base_scale
        o_part, o_reason = take(product, _NOT_IN_OTHER)
        append((product, b_part + o_part, reason if b_part >= o_part else o_reason))
    blended.extend([(product, part, reason) for product, (part, reason) in others.items()])
    return _best_first(blended)


_NOT_IN_OTHER: tuple[float, str | None] = (0.0, None)
_ID = itemgetter(0)
_SCORE = itemgetter(1)


def _best_first(items: Items) -> Items:
    """Highest score first, ties by id.

    Sorting by score alone is enough when no two scores are equal, and costs a fifth of sorting
    by id (string comparisons) first; only a list with ties gets the second, stable sort
    (C-level sorts both, much cheaper than a key tuple; docs/serving.md, Performance).
    """
    if len(set(map(_SCORE, items))) < len(items):
        items.sort(key=_ID)
    items.sort(key=_SCORE, reverse=True)
    return items


#: Separates the segments of a category path (``home/kitchen/knives``).
CATEGORY_SEPARATOR = "/"


def in_categories(category: str | None, wanted: Set[str]) -> bool:
    """Whether `category` is one of `wanted` or below one of them: a path prefix on whole
    segments (``home/kitchen`` holds ``home/kitchen/knives``; ``home/kit`` holds neither). A flat
    category is a one-segment path, so it matches exactly, as before paths. Case matters. The
    category rules match by it too (`recs.serving.rules.ContextRules.category_adjustment`)."""
    if category is None:
        return False
    if category in wanted:
        return True
    end = category.rfind(CATEGORY_SEPARATOR)
    while end > 0:
        if category[:end] in wanted:
            return True
        end = category.rfind(CATEGORY_SEPARATOR, 0, end)
    return False


def category_counts(catalog: Mapping[str, str]) -> dict[str, int]:
    """Products per category of a category map (product -> category)."""
    counts: dict[str, int] = {}
    for category in catalog.values():
        counts[category] = counts.get(category, 0) + 1
    return counts


def subcategories(counts: Mapping[str, int], parents: Iterable[str], keep: int) -> list[str]:
    """The categories strictly below any of `parents` among `counts` (category -> products),
    most products first (ties by name), up to `keep`: the lists read for a parent category."""
    prefixes = tuple(parent + CATEGORY_SEPARATOR for parent in parents)
    if not prefixes:
        return []
    below = [(category, n) for category, n in counts.items() if category.startswith(prefixes)]
    return [c for c, _ in sorted(below, key=lambda kv: (-kv[1], kv[0]))][:keep]


@dataclass(frozen=True)
class Filters:
    """What may never be served, and how varied a list must be.

    `excluded`: the product on screen, the cart's items, unavailable products. `purchased`:
    products the user bought, skipped unless the list says to buy them again. `categories`: the
    optional category filter (one category or several, each with the categories below it:
    `in_categories`), checked against `catalog`. `brands`, `tags`, `min_price`, `max_price`: the
    optional brand, tag (any of them) and price filters, checked against `attributes` (product ->
    [brand, price, tags]); a product whose brand, tags or price is unknown never passes the
    filter that needs it. `max_per_category`: the context's diversity cap (`fill`).
    """

    excluded: frozenset[str] = frozenset()
    purchased: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    catalog: Mapping[str, str] = field(default_factory=dict)
    buy_again_reason: str = "buy-again"
    #: Diversity: at most this many products of one category (by `catalog`) before every other
    #: candidate has had its turn; 0 = no cap. Products without a known category are not capped.
    max_per_category: int = 0
    brands: frozenset[str] = frozenset()
    min_price: float | None = None
    max_price: float | None = None
    attributes: Mapping[str, Attributes] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    #: Whether any brand, tag or price filter is given (one check per candidate when none is).
    _by_attributes: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        by_attributes = (
            bool(self.brands) or bool(self.tags) or self.min_price is not None or self.max_price is not None
        )
        object.__setattr__(self, "_by_attributes", by_attributes)

    def allows(self, product: str, reason: str | None) -> bool:
        if product in self.excluded:
            return False
        if product in self.purchased and reason != self.buy_again_reason:
            return False
        if self.categories and not in_categories(self.catalog.get(product), self.categories):
            return False
        return not self._by_attributes or self._attributes_allow(product)

    def _attributes_allow(self, product: str) -> bool:
        known = self.attributes.get(product)
        if known is None:
            return False
        if self.brands and known[BRAND] not in self.brands:
            return False
        if self.tags and self.tags.isdisjoint(known[TAGS] if len(known) > TAGS else ()):
            return False
        if self.min_price is None and self.max_price is None:
            return True
        price = known[PRICE]
        if not isinstance(price, int | float):
            return False
        if self.min_price is not None and price < self.min_price:
            return False
        return self.max_price is None or price <= self.max_price


@dataclass
class Filled:
    products: list[tuple[str, float, str | None]]
    used: list[str]  # sources that contributed, in order
    answered: list[str]  # sources that had a list at all (even if everything was filtered)
    #: Each listed product's anchor (`AnchorOf`), when it has one.
    anchors: dict[str, Anchor] = field(default_factory=dict)


def fill(
    chain: Iterable[tuple[str, LazyItems]],
    limit: int,
    filters: Filters,
    anchor_of: AnchorOf | None = None,
) -> Filled:
    """Take products from each source in turn until `limit`, skipping duplicates and filtered ones.

    With `anchor_of`, each picked product's anchor is asked of the source it was picked from (a
    duplicate in a later source never replaces it).

    Scores are normalised per source and then capped by the previous product's score, so they
    never increase down the list. With a diversity cap (`Filters.max_per_category`), a product
    whose category already has that many in the list waits; if the sources run out before the
    list is full, the waiting products fill it in their order (a cap never shortens a list).
    """
    picked: list[tuple[str, float, str | None]] = []
    seen: set[str] = set()
    used: list[str] = []
    answered: list[str] = []
    waiting: list[tuple[str, float, str | None, str]] = []
    anchors: dict[str, Anchor] = {}
    per_category: dict[str, int] = {}
    cap, catalog = filters.max_per_category, filters.catalog
    ceiling = 1.0
    for source, produce in chain:
        if len(picked) >= limit:
            break
        candidates = produce()
        if not candidates:
            continue
        answered.append(source)
        top = _best(candidates)
        scale = 1.0 / top if top > 0 else 0.0
        before = len(picked)
        for product, score, reason in candidates:
            if product in seen or not filters.allows(product, reason):
                continue
            seen.add(product)
            normal = score * scale if scale else 1.0
            if cap:
                category = catalog.get(product)
                if category is not None:
                    if per_category.get(category, 0) >= cap:
                        waiting.append((product, normal, reason, source))
                        continue
                    per_category[category] = per_category.get(category, 0) + 1
            ceiling = min(ceiling, normal)
            picked.append((product, round(ceiling, 5), reason))
            if anchor_of is not None:
                _anchor(anchors, anchor_of, source, product, reason)
            if len(picked) >= limit:
                break
        if len(picked) > before:
            used.append(source)
    for product, normal, reason, source in waiting[: max(0, limit - len(picked))]:
        ceiling = min(ceiling, normal)
        picked.append((product, round(ceiling, 5), reason))
        if anchor_of is not None:
            _anchor(anchors, anchor_of, source, product, reason)
        if source not in used:
            used.append(source)
    return Filled(picked, used, answered, anchors)


def _anchor(
    anchors: dict[str, Anchor], anchor_of: AnchorOf, source: str, product: str, reason: str | None
) -> None:
    anchor = anchor_of(source, product, reason)
    if anchor is not None:
        anchors[product] = anchor


def mix_in(
    filled: Filled,
    extra: Sequence[tuple[str, float, str | None]],
    share: float,
    limit: int,
    filters: Filters,
    source: str,
) -> int:
    """Give `share` of a list's `limit` slots to `extra` (new arrivals), at evenly spread places.

    The slots go to the first of `extra` that are allowed and not already listed; the products
    they displace are the filled list's last ones. Scores stay non-increasing: a mixed-in
    product takes the score of the product it follows. Returns how many were mixed in.
    """
    slots = math.floor(limit * share + 1e-9)
    if slots <= 0 or not extra:
        return 0
    listed = {product for product, _, _ in filled.products}
    chosen = [item for item in extra if item[0] not in listed and filters.allows(item[0], item[2])][:slots]
    if not chosen:
        return 0
    kept = filled.products[: max(0, min(len(filled.products), limit - len(chosen)))]
    size = len(kept) + len(chosen)
    places = {min(size - 1, int((i + 0.5) * size / len(chosen))) for i in range(len(chosen))}
    merged: list[tuple[str, float, str | None]] = []
    own, mixed = iter(kept), iter(chosen)
    for position in range(size):
        if position in places:
            product, _, reason = next(mixed)
            score = merged[-1][1] if merged else 1.0
            merged.append((product, score, reason))
        else:
            merged.append(next(own))
    # Mixed-in items may take the place of the list's first item, with score 1; keep them falling.
    ceiling, ordered = 1.0, []
    for product, score, reason in merged:
        ceiling = min(ceiling, score)
        ordered.append((product, round(ceiling, 5), reason))
    filled.products = ordered
    filled.used.append(source)
    return len(chosen)


def session_neighbours(
    seeds: Sequence[tuple[str, str]],
    neighbours_of: Callable[[str], Ranked],
    *,
    limit: int,
    recency: float = SESSION_RECENCY,
    recent: Set[str] = frozenset(),
    anchored: dict[str, Anchor] | None = None,
) -> Items:
    """The session source: the merged similar-items lists of the visitor's recent products.

    ``seeds`` are (product, event type), newest first; each seed's list weighs
    ``SESSION_INTEREST[event] / (1 + rank) ** recency``. Products in ``recent`` (everything the
    visitor's signal holds) are left out: what they just looked at is not news to them. Serving
    calls this per request, and training calls it to choose a shop's similar-items lists on
    validation sessions, so both rank sessions the same way. With `anchored`, it receives each
    neighbour's anchor: the seed that lifted it most (`session_anchor`).
    """
    # The closest neighbours of each seed decide the top of the list; the tail of each
    # neighbour list only adds sorting work (measured: docs/serving.md, Performance).
    per_seed = max(SESSION_NEIGHBOURS, 2 * limit)
    weighted = [
        (neighbours_of(product)[:per_seed], SESSION_INTEREST.get(event, 1.0) / (1 + rank) ** recency)
        for rank, (product, event) in enumerate(seeds)
    ]
    anchors = [session_anchor(product, event) for product, event in seeds] if anchored is not None else None
    merged = merge_weighted(weighted, Reason.SESSION.value, anchors=anchors, anchored=anchored)
    return [item for item in merged if item[0] not in recent]


def session_anchor(product: str, event: str) -> Anchor:
    """A recent product as an anchor: "bought" after a purchase, else "viewed" (a product added
    to the cart was viewed; it may have left the cart since, so it is not called in-cart)."""
    return (product, Relation.BOUGHT.value if event == "purchase" else Relation.VIEWED.value)
