"""The rows a version publishes (shapes in `recs.store_layout`), from ranked lists and item lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from recs.store_layout import (
    attribute_map_rows,
    availability_rows,
    bought_together_pk,
    category_map_rows,
    list_row,
    popular_pk,
    purchased_pk,
    similar_pk,
    trending_pk,
    user_pk,
)
from recs.training.fit.lists import list_reason
from recs.training.fit.ranking import RankedLists

#: The lists that need no model (refreshed even by a run the gate refuses).
SHOP_WIDE_LISTS = ("popular", "trending")
_LIST_KEYS: dict[str, Callable[[str], str]] = {
    "similar": similar_pk,
    "boughtTogether": bought_together_pk,
    "popular": popular_pk,
    "trending": trending_pk,
}


def list_pks(item_lists: Mapping[str, Mapping[str, Any]], kinds: Sequence[str] | None = None) -> list[str]:
    """The row keys of ``ItemLists.to_json()``'s lists (all kinds, or only ``kinds``)."""
    return [
        make_pk(key)
        for kind, make_pk in _LIST_KEYS.items()
        if kinds is None or kind in kinds
        for key, ranked in item_lists.get(kind, {}).items()
        if ranked
    ]


def user_list_rows(
    users: Sequence[str],
    items: Sequence[str],
    lists: RankedLists,
    version: str,
    generated_at: str,
    expires_at: int,
) -> list[dict[str, Any]]:
    """``U#<user>`` rows; a user whose list is empty (nothing eligible) gets no row."""
    rows: list[dict[str, Any]] = []
    for row, user in enumerate(users):
        ranked = [(items[i], score, reason) for i, score, reason in lists.items_of(row)]
        if ranked:
            rows.append(list_row(user_pk(user), version, ranked, generated_at, expires_at))
    return rows


def purchased_rows(
    users: Sequence[str],
    items: Sequence[str],
    purchase_days: sp.csr_matrix,
    version: str,
    generated_at: str,
    expires_at: int,
) -> list[dict[str, Any]]:
    """``PURCHASED#<user>`` rows: what each user bought and the version never shows them (its
    exclusions: one-off purchases, unless the shop's search learned that its shoppers come back
    to what they bought), most often bought first (days with a purchase), so serving filters
    them out of every list, including lists built without this version."""
    rows: list[dict[str, Any]] = []
    for row, user in enumerate(users):
        start, stop = purchase_days.indptr[row], purchase_days.indptr[row + 1]
        if start == stop:
            continue
        bought = purchase_days.indices[start:stop]
        counts = purchase_days.data[start:stop]
        order = np.lexsort((bought, -counts))
        entries = [(items[int(bought[i])], float(counts[i]), None) for i in order]
        rows.append(list_row(purchased_pk(user), version, entries, generated_at, expires_at))
    return rows


def item_list_rows(
    item_lists: Mapping[str, Mapping[str, list[list[Any]]]],
    version: str,
    generated_at: str,
    expires_at: int,
) -> list[dict[str, Any]]:
    """Similar-items, bought-together, popular and trending rows from ``ItemLists.to_json()``."""
    rows: list[dict[str, Any]] = []
    for kind, make_pk in _LIST_KEYS.items():
        for key, ranked in item_lists.get(kind, {}).items():
            reason = list_reason(kind, key).value
            entries = [(str(product), float(score), reason) for product, score in ranked]
            if entries:
                rows.append(list_row(make_pk(key), version, entries, generated_at, expires_at))
    return rows


def catalog_rows(
    categories: Mapping[str, str],
    unavailable: Sequence[str] | None,
    version: str,
    generated_at: str,
    expires_at: int,
    catalog_version: str | None = None,
    attributes: Mapping[str, Sequence[Any]] | None = None,
) -> list[dict[str, Any]]:
    """The version's ``CATALOG`` row (product -> category, what serving's category filters use),
    its ``ATTRS`` rows when the catalog gave brands, prices or tags (`attributes`, product ->
    (brand, price, tags), tags absent from a run prepared before they were kept: serving's
    brand, price and tag filters) and, when the shop exported a catalog, the
    unversioned availability row from it (naming the catalog feed's latest version, which it
    must not drop)."""
    rows = category_map_rows(categories, version, generated_at, expires_at)
    if attributes:
        triples = {
            product: (value[0], value[1], tuple(value[2]) if len(value) > 2 and value[2] else ())
            for product, value in attributes.items()
        }
        rows.extend(attribute_map_rows(triples, categories, version, generated_at, expires_at))
    if unavailable is not None:
        # A long list's parts, then its main row: written in parallel batches, so a reader may
        # meet the main row first; serving then keeps the list it had until its next refresh.
        rows.extend(availability_rows(unavailable, generated_at, catalog_version=catalog_version))
    return rows
