"""Shoppers: known users and anonymous visitors with tastes, favourite categories and activity levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recs_tools.synthetic._random import FloatArray, IntArray, count_of, hex_tokens, poisson_plus_one
from recs_tools.synthetic.catalog import Catalog
from recs_tools.synthetic.config import ShopConfig


@dataclass(frozen=True, slots=True)
class Shoppers:
    """Column-oriented shoppers used while generating.

    Persons ``0 .. n_users-1`` are known users; the rest are purely anonymous visitors.
    Anonymous visitors have tastes too, so their short sessions carry the same kind of signal
    that session-based recommendations rely on.
    """

    n_users: int
    user_ids: list[str]
    anon_ids: list[str | None]
    tastes: FloatArray
    category_cdf: FloatArray
    favourites: IntArray
    n_sessions: IntArray
    pre_login_sessions: IntArray
    opted_out: IntArray

    @property
    def n_people(self) -> int:
        return len(self.tastes)


def build_shoppers(config: ShopConfig, catalog: Catalog, rng: np.random.Generator) -> Shoppers:
    """Draw the shop's users and anonymous visitors.

    Parameters
    ----------
    config
        Shop configuration.
    catalog
        The catalog (its category centroids tie favourite categories to the latent tastes).
    rng
        Generator dedicated to the shoppers stage.

    Returns
    -------
    Shoppers
        Tastes, favourite categories, category preferences, session counts, the anonymous-then-login
        users and the opted-out users.
    """
    n_users, n_people = config.n_users, config.n_users + config.n_anonymous
    n_categories, n_fav = catalog.n_categories, config.n_favourite_categories

    # Shoppers fall into segments (budget families, gadget fans, ...) and vary around them; the
    # scale keeps dot products with the item factors at unit variance whatever the dimension.
    scale = 1.0 / np.sqrt(config.latent_dim)
    segment_tastes = rng.normal(0.0, scale, size=(config.n_segments, config.latent_dim))
    segment = rng.integers(0, config.n_segments, size=n_people)
    cohesion = config.segment_cohesion
    tastes = np.sqrt(cohesion) * segment_tastes[segment] + np.sqrt(1.0 - cohesion) * rng.normal(
        0.0, scale, size=(n_people, config.latent_dim)
    )

    # Favourite categories follow the latent taste (so factor models can explain them) plus noise
    # and a pull towards the big categories.
    log_cat_weight = _category_log_weight(catalog)
    affinity = (
        config.taste_strength * (tastes @ catalog.centroids.T)
        + log_cat_weight
        + rng.gumbel(0.0, 1.0, size=(n_people, n_categories))
    )
    favourites = np.argsort(-affinity, axis=1)[:, :n_fav].astype(np.int64)

    background = np.exp(log_cat_weight - log_cat_weight.max())
    background /= background.sum()
    probs = np.tile((1.0 - config.favourite_category_share) * background, (n_people, 1))
    fav_split = rng.dirichlet(np.full(n_fav, 2.0), size=n_people)
    np.add.at(
        probs,
        (np.repeat(np.arange(n_people), n_fav), favourites.ravel()),
        (config.favourite_category_share * fav_split).ravel(),
    )
    category_cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    category_cdf[:, -1] = 1.0

    # Activity is over-dispersed (negative binomial): most users come back a few times, a few very often.
    shape = config.sessions_per_user_dispersion
    activity = rng.gamma(shape, (config.sessions_per_user_mean - 1.0) / shape, size=n_users)
    n_sessions = np.concatenate(
        [
            1 + rng.poisson(activity).astype(np.int64),
            poisson_plus_one(config.anonymous_sessions_mean, config.n_anonymous, rng),
        ]
    )

    # Users who first browse anonymously need a session before the one in which they log in.
    pre_login = np.zeros(n_people, dtype=np.int64)
    login_users = rng.choice(n_users, size=count_of(config.anon_login_fraction, n_users), replace=False)
    n_sessions[login_users] = np.maximum(n_sessions[login_users], 2)
    wanted = 1 + (rng.random(len(login_users)) < 0.35)
    pre_login[login_users] = np.minimum(wanted, n_sessions[login_users] - 1)

    has_anon_id = np.zeros(n_people, dtype=np.bool_)
    has_anon_id[n_users:] = True
    has_anon_id[login_users] = True
    tokens = iter(hex_tokens(rng, int(has_anon_id.sum()), 8))
    anon_ids: list[str | None] = [f"anon_{next(tokens)}" if flag else None for flag in has_anon_id.tolist()]

    opted_out = np.sort(rng.choice(n_users, size=count_of(config.opt_out_fraction, n_users), replace=False))

    width = max(6, len(str(n_users - 1)))
    return Shoppers(
        n_users=n_users,
        user_ids=[f"user_{i:0{width}d}" for i in range(n_users)],
        anon_ids=anon_ids,
        tastes=tastes,
        category_cdf=category_cdf,
        favourites=favourites,
        n_sessions=n_sessions.astype(np.int64),
        pre_login_sessions=pre_login,
        opted_out=opted_out.astype(np.int64),
    )


def _category_log_weight(catalog: Catalog) -> FloatArray:
    """Log of each category's total popularity prior (log-sum-exp over its products)."""
    weight = np.zeros(catalog.n_categories)
    np.add.at(weight, catalog.category_of, np.exp(catalog.log_popularity))
    return np.asarray(np.log(weight), dtype=np.float64)
