"""Generating a whole synthetic shop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from recs_tools.synthetic.catalog import Product, build_catalog
from recs_tools.synthetic.config import ShopConfig
from recs_tools.synthetic.sessions import IDENT_USER, simulate
from recs_tools.synthetic.shoppers import build_shoppers
from recs_tools.synthetic.wire import WireEvent, WirePlan, plan_wire

#: Independent random streams per stage: changing e.g. the PII fraction leaves the simulated
#: behaviour untouched, and a new stage appended later does not shift the existing ones.
_STAGES = ("catalog", "shoppers", "sessions", "wire")


@dataclass(frozen=True)
class SyntheticShop:
    """A generated shop: catalog, people, events and the ground truth behind them.

    Attributes
    ----------
    config
        The configuration it was generated from.
    products
        The catalog (id, category, price, available), in id order.
    users
        Ids of the known users, e.g. ``user_000123``.
    anonymous_ids
        Every anonymous id appearing in the events: purely anonymous visitors and users
        before they log in.
    opted_out_user_ids
        Users who opted out of recommendations (their events are still in ``events``).
    anon_to_user
        Anonymous id -> user id for the users who browsed anonymously and then logged in.
    favourite_categories
        Ground truth: each user's favourite categories, most liked first.
    complements
        Ground truth: product id -> its complementary product ids ("bought together").
    trending_product_ids
        Ground truth: products trending during the last ``config.trending_days``.
    """

    config: ShopConfig
    products: list[Product]
    users: list[str]
    anonymous_ids: list[str]
    opted_out_user_ids: list[str]
    anon_to_user: dict[str, str]
    favourite_categories: dict[str, tuple[str, ...]]
    complements: dict[str, tuple[str, ...]]
    trending_product_ids: list[str]
    _plan: WirePlan = field(repr=False, compare=False)

    @cached_property
    def events(self) -> list[WireEvent]:
        """All events as JSON-ready ShopEvent dicts, sorted by timestamp (built on first access)."""
        return list(self._plan.iter_events())

    def iter_events(self) -> Iterator[WireEvent]:
        """Stream the events without holding them all (same content and order as :attr:`events`)."""
        return self._plan.iter_events()

    @property
    def n_events(self) -> int:
        """Number of events, re-sent duplicates included."""
        return self._plan.table.n_events + int(self._plan.resend.sum())

    def catalog(self) -> list[dict[str, object]]:
        """The products as JSON-ready dicts."""
        return [p.to_dict() for p in self.products]


def generate_shop(config: ShopConfig) -> SyntheticShop:
    """Generate a synthetic shop.

    Parameters
    ----------
    config
        Sizes, behaviour and seed; see :class:`ShopConfig` and :func:`build_config`.

    Returns
    -------
    SyntheticShop
        Deterministic in ``config``: the same configuration gives byte-identical events.

    Examples
    --------
    >>> from recs_tools.synthetic import build_config, generate_shop
    >>> shop = generate_shop(build_config("test", seed=1))
    >>> shop.events[0]["eventId"] != shop.events[1]["eventId"]
    True
    """
    streams = dict(zip(_STAGES, np.random.SeedSequence(config.seed).spawn(len(_STAGES)), strict=True))
    catalog = build_catalog(config, np.random.default_rng(streams["catalog"]))
    shoppers = build_shoppers(config, catalog, np.random.default_rng(streams["shoppers"]))
    table = simulate(config, catalog, shoppers, np.random.default_rng(streams["sessions"]))
    plan = plan_wire(config, catalog, shoppers, table, np.random.default_rng(streams["wire"]))

    users = shoppers.user_ids
    seen_anon = np.zeros(shoppers.n_people, dtype=np.bool_)
    seen_anon[table.session_person[table.session_identity != IDENT_USER]] = True
    anonymous_ids = [a for a, seen in zip(shoppers.anon_ids, seen_anon.tolist(), strict=True) if seen and a]
    anon_to_user = {
        anon: users[p]
        for p, anon in enumerate(shoppers.anon_ids[: shoppers.n_users])
        if anon is not None and shoppers.pre_login_sessions[p] > 0
    }
    names, ids = catalog.category_names, catalog.product_ids
    return SyntheticShop(
        config=config,
        products=catalog.products(),
        users=list(users),
        anonymous_ids=anonymous_ids,
        opted_out_user_ids=[users[u] for u in shoppers.opted_out.tolist()],
        anon_to_user=anon_to_user,
        favourite_categories={
            users[u]: tuple(names[c] for c in row)
            for u, row in enumerate(shoppers.favourites[: shoppers.n_users].tolist())
        },
        complements={
            ids[p]: tuple(ids[c] for c in row if c >= 0) for p, row in enumerate(catalog.complements.tolist())
        },
        trending_product_ids=[ids[p] for p in catalog.trending.tolist()],
        _plan=plan,
    )
