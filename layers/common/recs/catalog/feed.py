"""The catalog feed: an upload of the shop's catalog export becomes serving's view within
minutes instead of at the next training run.

An S3 upload of ``catalog/products.jsonl`` invokes the catalog function, which calls
`CatalogFeed.refresh`:

- **availability**: products the export marks unavailable, and products the serving model knows
  that the export no longer lists, stop being served at once;
- **new arrivals**: available products no model knows yet (no events before the last run), newest
  first by ``addedAt`` (then export order), overall and per category (``NEW#``);
- **similar items by attributes** for each of them (``ASIM#``): the product page of a product
  added this morning lists products of its category that share its brand and attributes and are
  close in price, instead of only popular products;
- **the live category map**, so category filters and category-popular know new products, and
  **the live attribute map** (brand and price of every product), so brand and price filters know
  new products and today's prices.

Training runs the same refresh after each flip (and after a refused run's lists), so "new" always
means unknown to the model that serves: products that collected events drop out of new arrivals
once a model has lists for them.

The lists are written under a catalog version of their own (``c<time>``), then one write of the
availability row names that version: serving switches to the new lists at once and never sees
half of them (`recs.serving.repository` reads the row with the model pointer).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recs.catalog.products import Product, parse_catalog
from recs.ports import KeyValueTable, ObjectStore
from recs.store_layout import (
    ALL_CATEGORIES,
    CATALOG_OBJECT_KEY,
    MODEL_IDS_ARTIFACT,
    POINTER_KEY,
    attribute_map_rows,
    attribute_similar_pk,
    availability_rows,
    category_map_rows,
    iso,
    list_row,
    new_arrivals_pk,
    version_prefix,
)

Items = list[tuple[str, float, str | None]]

#: How much each kind of likeness counts (same category is required first).
BRAND_WEIGHT = 0.5
ATTRIBUTES_WEIGHT = 0.3
PRICE_WEIGHT = 0.2


@dataclass(frozen=True)
class FeedReport:
    catalogVersion: str
    products: int
    unavailable: int
    newProducts: int
    rows: int


def new_products(products: Sequence[Product], known: set[str]) -> list[Product]:
    """Available products no model knows, newest first (``addedAt``), then in export order."""
    fresh = [(position, p) for position, p in enumerate(products) if p.available and p.id not in known]
    dated = sorted((p for _, p in fresh if p.added_at), key=lambda p: p.added_at or "", reverse=True)
    undated = [p for _, p in fresh if not p.added_at]
    return dated + undated


def new_arrival_lists(fresh: Sequence[Product], length: int) -> dict[str, Items]:
    """``NEW#*`` and ``NEW#<category>``: the newest first, scores falling from 1."""
    by_category: dict[str, list[Product]] = defaultdict(list)
    for product in fresh:
        by_category[ALL_CATEGORIES].append(product)
        if product.category:
            by_category[product.category].append(product)
    return {
        new_arrivals_pk(category): [
            (p.id, round(1.0 - rank / (2 * length), 5), "new-arrival")
            for rank, p in enumerate(members[:length])
        ]
        for category, members in by_category.items()
    }


def likeness(product: Product, other: Product) -> float:
    """How alike two products look from the catalog alone, in [0, 1] (same category assumed)."""
    score = 0.0
    if product.brand and product.brand == other.brand:
        score += BRAND_WEIGHT
    union = product.attributes | other.attributes
    if union:
        score += ATTRIBUTES_WEIGHT * len(product.attributes & other.attributes) / len(union)
    if product.price and other.price:
        score += PRICE_WEIGHT / (1.0 + abs(math.log(product.price / other.price)))
    return score


def attribute_similar_lists(
    fresh: Sequence[Product], products: Sequence[Product], length: int
) -> dict[str, Items]:
    """``ASIM#<new product>``: available products of its category, most alike first (ties in
    export order). A product without a category is compared with products of its brand."""
    by_category: dict[str | None, list[Product]] = defaultdict(list)
    by_brand: dict[str, list[Product]] = defaultdict(list)
    for other in products:
        if other.available:
            by_category[other.category].append(other)
            if other.brand:
                by_brand[other.brand].append(other)
    lists: dict[str, Items] = {}
    for product in fresh:
        pool = by_category[product.category] if product.category else by_brand.get(product.brand or "", [])
        scored = [
            (likeness(product, other), position, other.id)
            for position, other in enumerate(pool)
            if other.id != product.id
        ]
        top = sorted(scored, key=lambda s: (-s[0], s[1]))[:length]
        # Scaled so that the first scores 1, like every other list's (a floor keeps them > 0).
        best = top[0][0] if top and top[0][0] > 0 else 1.0
        lists[attribute_similar_pk(product.id)] = [
            (pid, round(max(score / best, 0.01), 5), "similar-items") for score, _, pid in top
        ]
    return lists


class CatalogFeed:
    def __init__(
        self,
        artifacts: ObjectStore,
        model_table: KeyValueTable,
        clock: Callable[[], datetime],
        *,
        list_length: int = 50,
        ttl_days: int = 30,
        max_new_products: int = 5_000,
    ) -> None:
        self._artifacts = artifacts
        self._table = model_table
        self._clock = clock
        self._length = list_length
        self._ttl_seconds = ttl_days * 86_400
        self._max_new = max_new_products

    def has_catalog(self, object_key: str = CATALOG_OBJECT_KEY) -> bool:
        return object_key in set(self._artifacts.list_keys(object_key))

    def refresh(self, object_key: str = CATALOG_OBJECT_KEY) -> FeedReport:
        """Read the uploaded export and publish what serving needs from it (see the module)."""
        products = parse_catalog(self._artifacts.get(object_key).splitlines())
        known = self._known_products()
        listed = {p.id for p in products}
        unavailable = [p.id for p in products if not p.available] + sorted(known - listed)
        fresh = new_products(products, known)[: self._max_new]
        now = self._clock()
        version = "c" + now.strftime("%Y%m%dT%H%M%S.") + f"{now.microsecond // 1000:03d}Z"
        generated, expires = iso(now), int(now.timestamp()) + self._ttl_seconds
        lists = {
            **new_arrival_lists(fresh, self._length),
            **attribute_similar_lists(fresh, products, self._length),
        }
        rows = [list_row(pk, version, items, generated, expires) for pk, items in lists.items() if items]
        categories = {p.id: p.category for p in products if p.category}
        rows.extend(category_map_rows(categories, version, generated, expires))
        attributes = {p.id: (p.brand, p.price, p.tags) for p in products if p.brand or p.price or p.tags}
        if attributes:
            rows.extend(attribute_map_rows(attributes, categories, version, generated, expires))
        written = self._table.put_many(rows)
        if written != len(rows):
            raise RuntimeError(f"catalog feed: {written} of {len(rows)} rows stored; availability unchanged")
        # Last, one row: serving moves to this catalog version and its availability together.
        *parts, main = availability_rows(unavailable, generated, catalog_version=version)
        if parts and self._table.put_many(parts) != len(parts):
            raise RuntimeError("catalog feed: the availability list's parts were not all stored")
        self._table.put(main)
        return FeedReport(version, len(products), len(unavailable), len(fresh), written + 1)

    def _known_products(self) -> set[str]:
        """The products the serving model has lists for (none before the first run)."""
        pointer = self._table.get(*POINTER_KEY)
        if not pointer or pointer.get("listsOnly"):
            # No model serves personal lists or similar items yet (a new shop): every product is
            # new, and its product page gets similar items by attributes.
            return set()
        key = version_prefix(str(pointer["modelVersion"])) + MODEL_IDS_ARTIFACT
        if key not in set(self._artifacts.list_keys(key)):
            return set()  # a lists-only version (its first run was refused) has no model
        ids: dict[str, Any] = json.loads(self._artifacts.get(key))
        return {str(item) for item in ids.get("items", [])}
