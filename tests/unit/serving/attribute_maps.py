"""The attribute map as training and the catalog feed write it and serving reads it back: shared by
the brand and price filter tests and the tag filter tests."""

from __future__ import annotations

from collections.abc import Mapping

from recs.store_layout import (
    AttributeMap,
    AttributeSource,
    attribute_map_rows,
    category_map_payload,
    decode_attribute_map,
)

VERSION = "v1"


def read_back(
    attributes: Mapping[str, AttributeSource], categories: Mapping[str, str], version: str = VERSION
) -> AttributeMap:
    """The map of `attributes` (product -> (brand, price) or (brand, price, tags)) and
    `categories`, written as rows and decoded as serving reads them."""
    return decode_attribute_map(
        category_map_payload(attribute_map_rows(attributes, categories, version, "g", 99))
    )
