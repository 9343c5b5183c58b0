"""The synthetic catalog: products, categories, prices, availability, popularity and latent traits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recs_tools.synthetic._random import BoolArray, FloatArray, IntArray, count_of
from recs_tools.synthetic.config import ShopConfig
from recs_tools.synthetic.vocabulary import category_vocabulary


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog entry.

    Parameters
    ----------
    id
        Product id, e.g. ``sku_00042``.
    category
        Category name, e.g. ``electronics``.
    price
        Unit price, two decimals.
    available
        False for products that can no longer be bought (never to be recommended).
    """

    id: str
    category: str
    price: float
    available: bool

    def to_dict(self) -> dict[str, object]:
        """The product as a JSON-ready dict."""
        return {"id": self.id, "category": self.category, "price": self.price, "available": self.available}


@dataclass(frozen=True, slots=True)
class Catalog:
    """Column-oriented catalog used while generating (indices, not ids).

    ``order`` lists product indices grouped by category; category ``c`` occupies
    ``order[cat_start[c]:cat_end[c]]``. Grouping lets the samplers pick "a product of category c"
    with one cumulative sum per shopper instead of one per (shopper, category).
    """

    product_ids: list[str]
    category_names: list[str]
    search_terms: list[tuple[str, ...]]
    category_of: IntArray
    price: FloatArray
    available: BoolArray
    log_popularity: FloatArray
    factors: FloatArray
    centroids: FloatArray
    order: IntArray
    cat_start: IntArray
    cat_end: IntArray
    complements: IntArray
    trending: IntArray

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    @property
    def n_categories(self) -> int:
        return len(self.category_names)

    def products(self) -> list[Product]:
        """The catalog as :class:`Product` records, in product-id order."""
        names = self.category_names
        return [
            Product(id=pid, category=names[cat], price=price, available=avail)
            for pid, cat, price, avail in zip(
                self.product_ids,
                self.category_of.tolist(),
                self.price.tolist(),
                self.available.tolist(),
                strict=True,
            )
        ]


def build_catalog(config: ShopConfig, rng: np.random.Generator) -> Catalog:
    """Draw a catalog.

    Parameters
    ----------
    config
        Shop configuration (sizes, popularity exponent, prices, availability, complements).
    rng
        Generator dedicated to the catalog stage.

    Returns
    -------
    Catalog
        Products with categories, prices, availability, a Zipf popularity prior, latent factors
        (category centroid plus individual noise) and complementary products.
    """
    n_products, n_categories, dim = config.n_products, config.n_categories, config.latent_dim
    names, terms = category_vocabulary(config.catalog_theme, n_categories)

    # Uneven category sizes, yet never an empty category.
    shares = rng.dirichlet(np.full(n_categories, 2.0))
    category_of = np.concatenate(
        [np.arange(n_categories), rng.choice(n_categories, size=n_products - n_categories, p=shares)]
    )
    category_of = rng.permutation(category_of).astype(np.int64)

    # Zipf prior over a random ranking, so that product ids carry no popularity information.
    rank = rng.permutation(n_products)
    log_popularity = -config.popularity_exponent * np.log1p(rank).astype(np.float64)

    centroids = rng.normal(0.0, 1.0, size=(n_categories, dim))
    own = config.item_individuality
    factors = np.sqrt(1.0 - own) * centroids[category_of] + np.sqrt(own) * rng.normal(
        0.0, 1.0, size=(n_products, dim)
    )

    category_median = config.price_median * rng.lognormal(0.0, 0.6, size=n_categories)
    raw_price = category_median[category_of] * rng.lognormal(0.0, 0.45, size=n_products)
    # Shop prices end in .99; the floor keeps every price positive.
    price = np.round(np.maximum(np.round(raw_price), 1.0) - 0.01, 2)

    available = np.ones(n_products, dtype=np.bool_)
    available[
        rng.choice(n_products, size=count_of(config.unavailable_fraction, n_products), replace=False)
    ] = False

    order = np.argsort(category_of, kind="stable").astype(np.int64)
    counts = np.bincount(category_of, minlength=n_categories)
    cat_end = np.cumsum(counts).astype(np.int64)
    cat_start = cat_end - counts

    complements = _complements(config, rng, category_of, log_popularity, order, cat_start, cat_end)
    trending = _trending(config, rng, rank)

    width = max(5, len(str(n_products - 1)))
    return Catalog(
        product_ids=[f"sku_{i:0{width}d}" for i in range(n_products)],
        category_names=names,
        search_terms=terms,
        category_of=category_of,
        price=price,
        available=available,
        log_popularity=log_popularity,
        factors=factors,
        centroids=centroids,
        order=order,
        cat_start=cat_start,
        cat_end=cat_end,
        complements=complements,
        trending=trending,
    )


def _complements(
    config: ShopConfig,
    rng: np.random.Generator,
    category_of: IntArray,
    log_popularity: FloatArray,
    order: IntArray,
    cat_start: IntArray,
    cat_end: IntArray,
) -> IntArray:
    """Complementary products (``-1`` pads): partly in the same category, mostly in a paired one.

    Complements are drawn with a flattened popularity (square root of the prior) so that the
    bought-together signal is not just "the popular items" again.
    """
    n_products, n_categories = len(category_of), len(cat_start)
    k = config.complements_per_product
    if k == 0 or n_products < 2:
        return np.full((n_products, k), -1, dtype=np.int64)
    # Categories are paired like phones <-> phone accessories; an odd one out pairs with itself.
    shuffled = rng.permutation(n_categories)
    partner = np.arange(n_categories)
    partner[shuffled[0:-1:2]] = shuffled[1::2]
    partner[shuffled[1::2]] = shuffled[0:-1:2]

    source = np.repeat(np.arange(n_products), k)
    own = category_of[source]
    target_cat = np.where(rng.random(len(source)) < 0.3, own, partner[own])

    weight = np.exp(0.5 * log_popularity[order])
    cum = np.concatenate([[0.0], np.cumsum(weight)])
    lo, hi = cum[cat_start[target_cat]], cum[cat_end[target_cat]]
    target = lo + rng.random(len(source)) * (hi - lo)
    pos = np.searchsorted(cum, target, side="right") - 1
    pos = np.clip(pos, cat_start[target_cat], cat_end[target_cat] - 1)
    chosen = order[pos]

    # A product is not its own complement: take its neighbour within the category instead.
    same = chosen == source
    size = cat_end[target_cat] - cat_start[target_cat]
    neighbour = cat_start[target_cat] + (pos - cat_start[target_cat] + 1) % np.maximum(size, 1)
    chosen = np.where(same & (size > 1), order[neighbour], chosen)
    chosen = np.where(chosen == source, -1, chosen)

    table = chosen.reshape(n_products, k)
    # Drop repeats within a row so each complement is listed once.
    sorted_rows = np.sort(table, axis=1)
    repeat = np.zeros_like(table, dtype=np.bool_)
    repeat[:, 1:] = sorted_rows[:, 1:] == sorted_rows[:, :-1]
    deduped = np.where(repeat, -1, sorted_rows)
    return np.asarray(-np.sort(-deduped, axis=1), dtype=np.int64)


def _trending(config: ShopConfig, rng: np.random.Generator, rank: IntArray) -> IntArray:
    """Mid-popularity products that trend at the end of the window (not already the best sellers)."""
    n_products = len(rank)
    n_trending = count_of(config.trending_fraction, n_products)
    if n_trending == 0:
        return np.empty(0, dtype=np.int64)
    lo, hi = int(0.1 * n_products), max(int(0.6 * n_products), int(0.1 * n_products) + n_trending)
    candidates = np.flatnonzero((rank >= lo) & (rank < hi))
    if len(candidates) < n_trending:
        candidates = np.arange(n_products)
    return np.sort(rng.choice(candidates, size=n_trending, replace=False)).astype(np.int64)
