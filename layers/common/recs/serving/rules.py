"""Merchandising rules in serving: which are active, and what they do to a filled list.

Order of application (docs/serving.md, Rules): block rules join the request's filters, so the
fill skips blocked products and takes the next candidates and sources instead (a rule that
empties a source's list leaves the list to the next source); with boosts or buries active the
fill goes `RERANK_DEPTH` times deeper, the boosts and buries multiply the scores of the
candidates they match (by product, category or brand; a category rule matches its category and
every category below it, on whole path segments, as the category filter does), and the best
`limit` after re-sorting make the list (so a boost can lift a product from below the list, and a
buried one leaves room for the next); pins last put their product at their position, when the
catalog knows it and the request's filters allow it (not excluded, unavailable, purchased,
blocked or outside a category, brand or price filter).
Every product a rule moved or placed has the reason ``rule`` and the rule's id.

The rules row is read at most once per `ttl_seconds` per container (`RuleCache`); between reads
the rules active now are compiled once per context, again only when a rule starts or ends, so a
request pays a dictionary lookup. Which category rules match a product's category is worked out
the first time the compiled rules meet that category, then remembered (a dictionary lookup per
candidate, as exact matching was). A store that cannot be read keeps the last rules read (none
before the first read) and is tried again after `retry_seconds`: requests are served, never
failed, and counted (`RulesUnavailable`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from recs.contracts.recommendations import Reason
from recs.errors import StoreUnavailableError
from recs.rules.model import Rule
from recs.serving.query import KNOWN_CONTEXTS
from recs.serving.ranking import Filters, in_categories
from recs.store_layout import BRAND, Attributes

RULE = Reason.RULE.value
#: With boosts or buries active, how many times `limit` candidates the fill gathers for them to
#: re-rank (a boost lifts products from that deep; the list is then cut to `limit`).
RERANK_DEPTH = 3
Item = tuple[str, float, str | None]
#: (factor, id of the rule that weighs most in it).
Adjustment = tuple[float, str]
_NONE: Mapping[str, Adjustment] = MappingProxyType({})
_NONE_BY_CATEGORY: Mapping[str, tuple[Adjustment, ...]] = MappingProxyType({})
_NO_CATEGORIES: Mapping[str, str] = MappingProxyType({})


class RuleReader(Protocol):
    def read(self) -> tuple[list[Rule], int]:
        """Every stored rule and the revision; raises `StoreUnavailableError`."""
        ...


def _combined(pairs: Sequence[tuple[str, float, str]]) -> Mapping[str, Adjustment]:
    """key -> (product of the factors of its rules, the rule of the largest effect)."""
    combined: dict[str, Adjustment] = {}
    strongest: dict[str, float] = {}
    for key, factor, rule_id in pairs:
        previous, named = combined.get(key, (1.0, rule_id))
        effect = abs(math.log(factor))
        if effect > strongest.get(key, -1.0):
            strongest[key], named = effect, rule_id
        combined[key] = (previous * factor, named)
    return combined


def _grouped(pairs: Sequence[tuple[str, float, str]]) -> Mapping[str, tuple[Adjustment, ...]]:
    """key -> the (factor, rule id) of each of its rules, in the rules' order."""
    grouped: dict[str, tuple[Adjustment, ...]] = {}
    for key, factor, rule_id in pairs:
        grouped[key] = (*grouped.get(key, ()), (factor, rule_id))
    return grouped


@dataclass(frozen=True)
class ContextRules:
    """The rules acting in one context now, ready to apply."""

    blocked: frozenset[str] = frozenset()
    #: (position, product, rule id), by position then rule id.
    pins: tuple[tuple[int, str, str], ...] = ()
    by_product: Mapping[str, Adjustment] = field(default_factory=lambda: _NONE)
    #: A rule's category -> (factor, rule id) of each boost or bury of it. A category rule acts on
    #: its category and every category below it (`category_adjustment`).
    by_category: Mapping[str, tuple[Adjustment, ...]] = field(default_factory=lambda: _NONE_BY_CATEGORY)
    by_brand: Mapping[str, Adjustment] = field(default_factory=lambda: _NONE)
    #: A product's category -> the category rules' adjustment of it (None: no rule matches it),
    #: filled as categories are met: this rule set's categories are matched once, not per request.
    _per_category: dict[str, Adjustment | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def of(cls, rules: Sequence[Rule]) -> ContextRules:
        adjust = [rule for rule in rules if rule.kind in ("boost", "bury")]
        return cls(
            blocked=frozenset(r.productId for r in rules if r.kind == "block" and r.productId),
            pins=tuple(sorted((r.position or 1, r.productId or "", r.id) for r in rules if r.kind == "pin")),
            by_product=_combined([(r.productId, r.effective_factor, r.id) for r in adjust if r.productId]),
            by_category=_grouped([(r.category, r.effective_factor, r.id) for r in adjust if r.category]),
            by_brand=_combined([(r.brand_key, r.effective_factor, r.id) for r in adjust if r.brand_key]),
        )

    @property
    def needs_catalog(self) -> bool:
        """Category rules need the product -> category map, and pins check their product is in it."""
        return bool(self.by_category or self.pins)

    @property
    def needs_attributes(self) -> bool:
        """Brand rules need the product -> brand map."""
        return bool(self.by_brand)

    @property
    def reranks(self) -> bool:
        return bool(self.by_product or self.by_category or self.by_brand)

    def category_adjustment(self, category: str) -> Adjustment | None:
        """What the category rules do to a product of `category`: every rule whose category is
        `category` or above it on whole path segments (the category filter's matching,
        `in_categories`: ``home/kitchen`` holds ``home/kitchen/knives``, not
        ``home/kitchenware``; case matters), combined as rules on one product are (the factors
        multiply, the strongest names it); None when none matches.

        Worked out once per category for this rule set and remembered: the per-candidate cost is a
        dictionary lookup, as with exact matching.
        """
        try:
            return self._per_category[category]
        except KeyError:
            pass
        matched: Adjustment | None = None
        if in_categories(category, self.by_category.keys()):
            pairs = [
                (category, factor, rule_id)
                for ruled, adjustments in self.by_category.items()
                if in_categories(category, frozenset((ruled,)))
                for factor, rule_id in adjustments
            ]
            matched = _combined(pairs)[category]
        self._per_category[category] = matched
        return matched

    def depth(self, limit: int) -> int:
        """How many candidates the fill gathers: deeper when boosts or buries re-rank them."""
        return limit * RERANK_DEPTH if self.reranks else limit

    def rerank(
        self,
        candidates: Sequence[Item],
        *,
        catalog: Mapping[str, str],
        attributes: Mapping[str, Attributes],
        limit: int,
        ruled: dict[str, str],
    ) -> list[Item]:
        """The best `limit` of the filled candidates after the boosts and buries; each product a
        rule rescored is added to `ruled` (product -> rule id)."""
        if not self.reranks:
            return list(candidates[:limit])
        found: dict[str, str] = {}
        kept = self._adjusted(list(candidates), catalog, attributes, found)[:limit]
        ruled.update({product: found[product] for product, _, _ in kept if product in found})
        return kept

    def place_pins(
        self,
        products: Sequence[Item],
        filters: Filters,
        *,
        catalog: Mapping[str, str],
        limit: int,
        ruled: dict[str, str],
    ) -> list[Item]:
        """The list with each pin's product at its position, cut to `limit`; `ruled` gains the
        pinned products and loses those the pins pushed out.

        Blocks are not applied here: they are part of `filters`, which the fill already used.
        """
        listed = list(products)
        for position, product, rule_id in self.pins:
            # A product the catalog does not know (a mistyped id, a product long gone) is not
            # placed; without a category map (a version published before it, or unreadable) the
            # pin is trusted.
            if (catalog and product not in catalog) or not filters.allows(product, None):
                continue
            listed = [item for item in listed if item[0] != product]
            index = min(position - 1, len(listed))
            # The score of the product it follows (or of the first): scores stay non-increasing.
            score = listed[index - 1][1] if index > 0 else (listed[0][1] if listed else 1.0)
            listed.insert(index, (product, score, RULE))
            ruled[product] = rule_id
        kept = listed[:limit]
        shown = {product for product, _, _ in kept}
        for product in [p for p in ruled if p not in shown]:
            del ruled[product]
        return kept

    def apply(
        self,
        products: Sequence[Item],
        filters: Filters,
        *,
        catalog: Mapping[str, str],
        attributes: Mapping[str, Attributes],
        limit: int,
    ) -> tuple[list[Item], dict[str, str]]:
        """`rerank`, then `place_pins`: the list and product -> the rule that placed or moved it."""
        ruled: dict[str, str] = {}
        reranked = self.rerank(products, catalog=catalog, attributes=attributes, limit=limit, ruled=ruled)
        return self.place_pins(reranked, filters, catalog=catalog, limit=limit, ruled=ruled), ruled

    def _adjusted(
        self,
        listed: list[Item],
        catalog: Mapping[str, str],
        attributes: Mapping[str, Attributes],
        ruled: dict[str, str],
    ) -> list[Item]:
        rescored: list[tuple[float, int, Item]] = []
        # Looked up once, not per candidate: this loop is on the cache-hit path.
        on_product, by_brand, per_category = self.by_product.get, self.by_brand, self._per_category
        category_map = catalog if self.by_category else _NO_CATEGORIES
        for rank, (product, score, reason) in enumerate(listed):
            factor, named, strongest = 1.0, None, -1.0
            category = category_map.get(product)
            on_category = None
            if category is not None:
                # The remembered match, without a call for each candidate.
                on_category = (
                    per_category[category] if category in per_category else self.category_adjustment(category)
                )
            known = attributes.get(product) if by_brand else None
            brand = known[BRAND] if known is not None else None
            for adjustment in (
                on_product(product),
                on_category,
                by_brand.get(brand) if isinstance(brand, str) else None,
            ):
                if adjustment is not None:
                    factor *= adjustment[0]
                    if abs(math.log(adjustment[0])) > strongest:
                        strongest, named = abs(math.log(adjustment[0])), adjustment[1]
            if named is None:
                rescored.append((score, rank, (product, score, reason)))
                continue
            ruled[product] = named
            new = round(min(1.0, score * factor), 5)
            rescored.append((new, rank, (product, new, RULE)))
        rescored.sort(key=lambda entry: (-entry[0], entry[1]))
        return [item for _, _, item in rescored]


NO_RULES = ContextRules()


@dataclass
class _Compiled:
    per_context: dict[str, ContextRules]
    #: Wall-clock seconds between which these are the active rules (the next start or end).
    valid_from: float
    valid_until: float


class RuleCache:
    """The active rules per context, read from the store at most once per `ttl_seconds`.

    Parameters
    ----------
    reader
        The rules store (None: no rules at all, nothing is ever read).
    ttl_seconds
        How long a read serves; a change reaches every container within this.
    retry_seconds
        After a failed read, how long the last rules read serve before the next attempt.
    clock
        Wall-clock seconds (rules start and end by it; tests pin it).
    """

    def __init__(
        self,
        reader: RuleReader | None,
        *,
        ttl_seconds: float,
        retry_seconds: float = 5.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._ttl = ttl_seconds
        self._retry = retry_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._timed: list[tuple[float, float, Rule]] = []
        self._fresh_until = -math.inf
        self._compiled = _Compiled({}, math.inf, -math.inf)
        #: Whether the last read failed (the rules served are the last ones read, or none).
        self.unavailable = False

    def expire(self) -> None:
        """Read the rules again on the next request, as the first request after the TTL does."""
        self._fresh_until = -math.inf

    def for_context(self, context: str) -> ContextRules:
        if self._reader is None:
            return NO_RULES
        if self._monotonic() >= self._fresh_until:
            self._refresh()
        compiled = self._compiled
        now = self._clock()
        if not compiled.valid_from <= now < compiled.valid_until:
            compiled = self._compile(now)
        return compiled.per_context.get(context, NO_RULES)

    def _refresh(self) -> None:
        assert self._reader is not None
        try:
            rules, _ = self._reader.read()
        except StoreUnavailableError:
            self.unavailable = True
            self._fresh_until = self._monotonic() + self._retry
            return
        self.unavailable = False
        self._timed = [(rule.startsAt.timestamp(), rule.endsAt.timestamp(), rule) for rule in rules]
        self._fresh_until = self._monotonic() + self._ttl
        self._compiled = _Compiled({}, math.inf, -math.inf)  # compiled again from these

    def _compile(self, now: float) -> _Compiled:
        active = [rule for start, end, rule in self._timed if start <= now < end]
        edges = [edge for start, end, _ in self._timed for edge in (start, end)]
        per_context = {
            context: ContextRules.of(rules)
            for context in KNOWN_CONTEXTS
            if (rules := [rule for rule in active if rule.acts_in(context)])
        }
        self._compiled = _Compiled(
            per_context,
            valid_from=max((edge for edge in edges if edge <= now), default=-math.inf),
            valid_until=min((edge for edge in edges if edge > now), default=math.inf),
        )
        return self._compiled
