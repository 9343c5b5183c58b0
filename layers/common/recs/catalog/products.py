"""The shop's catalog export, parsed: one JSON object per line.

``{"id": "sku_1", "category": "kitchen", "available": true, "price": 12.5, "brand": "acme",
"attributes": {"colour": "red", "size": ["s", "m"]}, "tags": ["eco"], "addedAt": "2026-12-05T08:00:00Z"}``

Only ``id`` is required. ``available`` defaults to true; ``brand``, ``attributes`` (string,
number or list values), ``tags`` and ``price`` describe the product for similarity by
attributes; ``addedAt`` (ISO-8601) orders new arrivals. Other fields are ignored.

``category`` may be a path of segments separated by ``/`` (``home/kitchen/knives``): serving's
category filter, and a boost or bury rule on a category, match a path and every category below it
(docs/serving.md, Filters and Rules).
``brand`` and ``tags`` are kept lower-cased, for serving's brand and tag filters too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field


class CatalogFormatError(ValueError):
    """A catalog line is not a JSON object with a string ``id``."""


@dataclass(frozen=True)
class Product:
    id: str
    category: str | None = None
    available: bool = True
    price: float | None = None
    brand: str | None = None
    #: ``key=value`` pairs from ``attributes`` and ``tag=value`` from ``tags``, lower-cased.
    attributes: frozenset[str] = field(default_factory=frozenset)
    added_at: str | None = None
    #: ``tags``, lower-cased, without surrounding spaces or repeats, in file order.
    tags: tuple[str, ...] = ()


def parse_catalog(lines: Iterable[bytes | str]) -> list[Product]:
    """Every product of the export, in file order; a repeated id keeps its last line."""
    products: dict[str, Product] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CatalogFormatError(f"catalog line {number}: not JSON ({error.msg})") from error
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"]:
            raise CatalogFormatError(f"catalog line {number}: expected an object with a string 'id'")
        products.pop(row["id"], None)
        products[row["id"]] = _product(row)
    return list(products.values())


def _product(row: dict[str, object]) -> Product:
    category = row.get("category")
    brand = row.get("brand")
    added = row.get("addedAt")
    return Product(
        id=str(row["id"]),
        category=str(category) if category else None,
        available=row.get("available", True) is not False,
        price=_price(row.get("price")),
        brand=str(brand).strip().lower() if brand else None,
        attributes=_attributes(row.get("attributes"), row.get("tags")),
        added_at=str(added) if isinstance(added, str) and added else None,
        tags=_tags(row.get("tags")),
    )


def _tags(tags: object) -> tuple[str, ...]:
    if not isinstance(tags, list):
        return ()
    cleaned = (tag.strip().lower() for tag in tags if isinstance(tag, str))
    return tuple(dict.fromkeys(tag for tag in cleaned if tag))


def _price(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value > 0 else None


def _attributes(attributes: object, tags: object) -> frozenset[str]:
    pairs: set[str] = set()
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            for single in value if isinstance(value, list) else [value]:
                if isinstance(single, str | int | float) and not isinstance(single, bool):
                    pairs.add(f"{str(key).strip().lower()}={str(single).strip().lower()}")
    if isinstance(tags, list):
        pairs.update(f"tag={str(tag).strip().lower()}" for tag in tags if isinstance(tag, str) and tag)
    return frozenset(pairs)
