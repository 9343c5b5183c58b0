"""The shop's catalog as training sees it: which products may be recommended, and their category.

Availability reaches training as a file the shop exports (``catalog/products.jsonl`` in the
artifact bucket, ``recs.store_layout.CATALOG_OBJECT_KEY``; ``--catalog FILE`` offline): one JSON object
per line, ``{"id": "sku_1", "category": "kitchen", "available": true}`` (parsed by
`recs.catalog.products`, which also reads the attributes the catalog feed uses; ``brand`` and
``price`` and ``tags`` are kept for serving's brand, price and tag filters). ``available`` defaults
to true and ``category`` is optional. When the file exists, a product it does not list is
treated as no longer sold (unavailable); when there is no file at all, every product seen in
the events counts as available and categories come from the events.

With a file, events of products it does not list at all are also left out of training
(`known_product`, Prepare's ``unknownProductEvents``): events are unauthenticated, and a client
inventing product ids must not be able to build them a history. The trade-off: a product added
after the last export is dropped the same way until the next export lists it (docs/training.md,
Data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recs.catalog.products import CatalogFormatError, parse_catalog

__all__ = ["Catalog", "CatalogEntry", "CatalogFormatError"]


@dataclass(frozen=True)
class CatalogEntry:
    category: str | None
    available: bool
    brand: str | None = None
    price: float | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """Products by id; ``present`` is False when the shop exported no catalog."""

    entries: dict[str, CatalogEntry]
    present: bool

    @classmethod
    def absent(cls) -> Catalog:
        return cls({}, present=False)

    @classmethod
    def from_jsonl(cls, lines: Iterable[bytes | str]) -> Catalog:
        entries = {
            product.id: CatalogEntry(
                product.category, product.available, product.brand, product.price, product.tags
            )
            for product in parse_catalog(lines)
        }
        return cls(entries, present=True)

    def known_product(self) -> Callable[[str], bool] | None:
        """With an export: whether a product id is listed in it (available or not), for
        `InteractionBuilder.build`; without one, None (every product counts)."""
        if not self.present:
            return None
        return self.entries.__contains__

    def unavailable_mask(self, items: Sequence[str]) -> npt.NDArray[np.bool_]:
        """True for each item that must never be recommended."""
        if not self.present:
            return np.zeros(len(items), dtype=np.bool_)
        return np.array(
            [not (entry := self.entries.get(item)) or not entry.available for item in items], dtype=np.bool_
        )

    def attributes(self) -> dict[str, tuple[str | None, float | None, tuple[str, ...]]]:
        """(brand, price, tags) of each product the export gives any of (serving's brand, price
        and tag filters; `recs.store_layout.attribute_map_rows`)."""
        return {
            product: (entry.brand or None, entry.price, entry.tags)
            for product, entry in self.entries.items()
            if entry.brand or entry.price or entry.tags
        }

    def categories(self, items: Sequence[str], seen: Sequence[str | None]) -> list[str | None]:
        """The catalog's category of each item, else the one the events carried."""
        result: list[str | None] = []
        for item, from_events in zip(items, seen, strict=True):
            entry = self.entries.get(item)
            result.append(entry.category if entry and entry.category else from_events)
        return result
