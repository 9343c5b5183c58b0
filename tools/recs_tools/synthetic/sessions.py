"""Sessions and their events, simulated column-wise with numpy.

A session is a sequence of *slots*; a slot is one product the shopper engages with and expands into
one to three events (view -> click -> add_to_cart, or search -> search_result_click -> add_to_cart).
Sessions whose cart is not empty may check out, which appends one purchase per carted product at the
end of the session. Every step is a vectorised draw over all slots at once, so the bench preset's
millions of events take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import numpy as np

from recs_tools.synthetic._random import BoolArray, IntArray, choose_rows, hex_tokens, poisson_plus_one
from recs_tools.synthetic.catalog import Catalog
from recs_tools.synthetic.config import ShopConfig
from recs_tools.synthetic.shoppers import Shoppers
from recs_tools.synthetic.vocabulary import QUERY_MODIFIERS

#: Event type codes: index into this tuple (the `EventType` wire values).
EVENT_TYPES: Final[tuple[str, ...]] = (
    "view",
    "click",
    "add_to_cart",
    "purchase",
    "search",
    "search_result_click",
)
VIEW, CLICK, ADD_TO_CART, PURCHASE, SEARCH, SEARCH_RESULT_CLICK = range(6)

#: Page contexts of events: index into this tuple.
CONTEXTS: Final[tuple[str, ...]] = ("product-page", "homepage", "category", "search", "cart", "checkout")
CTX_PRODUCT, CTX_HOME, CTX_CATEGORY, CTX_SEARCH, CTX_CART, CTX_CHECKOUT = range(6)

#: Who a session's events name: the user, the anonymous browser, or both (the login session).
IDENT_USER, IDENT_ANON, IDENT_BOTH = range(3)

_BROWSE, _SEARCH, _REPURCHASE, _COMPLEMENT = range(4)
#: Event type of the n-th event of a slot, per slot kind. Carting implies clicking, except for a
#: complement, which is added straight from the "bought together" box of the cart page.
_SLOT_EVENTS = np.array(
    [
        [VIEW, CLICK, ADD_TO_CART],
        [SEARCH, SEARCH_RESULT_CLICK, ADD_TO_CART],
        [VIEW, CLICK, ADD_TO_CART],
        [VIEW, ADD_TO_CART, ADD_TO_CART],
    ],
    dtype=np.int64,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_PER_DAY = 86_400_000
#: Longest session; later events are squeezed to its end so a session never leaves the window.
_MAX_SESSION_MS = 3 * 3_600_000
#: Relative traffic per hour of day (shop-local time = UTC here): quiet nights, busy evenings.
_HOURLY_TRAFFIC = np.array(
    [0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.25, 0.45, 0.6, 0.65, 0.7, 0.75,
     0.8, 0.75, 0.7, 0.7, 0.75, 0.85, 0.95, 1.0, 1.0, 0.9, 0.7, 0.45]
)  # fmt: skip
#: Largest score matrix (shoppers x products of a category) built at once while sampling: bounds memory.
_BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True, slots=True)
class EventTable:
    """Events in time order, as columns of indices (turned into wire dicts by
    :mod:`recs_tools.synthetic.wire`).

    Per-event columns: ``session``, ``type_code`` (into :data:`EVENT_TYPES`), ``product`` (``-1`` for
    searches), ``quantity`` (``0`` when absent), ``context`` (into :data:`CONTEXTS`), ``search`` (index
    into ``search_query``/``search_results``, ``-1`` otherwise) and ``timestamp_ms`` (Unix epoch).
    Per-session columns: ``session_person``, ``session_identity`` and ``session_ids``.
    """

    session: IntArray
    type_code: IntArray
    product: IntArray
    quantity: IntArray
    context: IntArray
    search: IntArray
    timestamp_ms: IntArray
    session_person: IntArray
    session_identity: IntArray
    session_ids: list[str]
    search_query: list[str]
    search_results: list[list[int]]

    @property
    def n_events(self) -> int:
        return len(self.session)


@dataclass(slots=True)
class _Slots:
    session: IntArray
    okey: IntArray
    kind: IntArray
    item: IntArray
    clicked: BoolArray
    carted: BoolArray


def window_ms(config: ShopConfig) -> tuple[int, int]:
    """``(start, end)`` of the event window in Unix milliseconds; events satisfy ``start < t < end``.

    ``end`` is ``now`` floored to the millisecond, so every millisecond timestamp below it is
    also strictly before ``now``.
    """
    end = (config.now - _EPOCH) // timedelta(milliseconds=1)
    return end - config.days * _MS_PER_DAY, end


def simulate(
    config: ShopConfig, catalog: Catalog, shoppers: Shoppers, rng: np.random.Generator
) -> EventTable:
    """Simulate every session of every shopper.

    Parameters
    ----------
    config
        Shop configuration (funnel rates, search, complements, repurchase, timing).
    catalog
        The catalog.
    shoppers
        Users and anonymous visitors.
    rng
        Generator dedicated to the session stage.

    Returns
    -------
    EventTable
        All events, sorted by timestamp.
    """
    start_ms, end_ms = window_ms(config)
    person = np.repeat(np.arange(shoppers.n_people, dtype=np.int64), shoppers.n_sessions)
    n_sessions = len(person)
    offset = _session_offsets(rng, n_sessions, start_ms, end_ms)
    # Order each shopper's sessions in time so "before login" really comes first.
    by_time = np.lexsort((offset, person))
    offset = offset[by_time]
    first_session = np.cumsum(shoppers.n_sessions) - shoppers.n_sessions
    rank = np.arange(n_sessions) - first_session[person]
    identity = _identities(shoppers, person, rank)

    slots = _draw_slots(config, catalog, shoppers, rng, person, rank, offset, end_ms - start_ms)
    slots = _add_complements(config, catalog, rng, slots)

    quantity = np.where(
        slots.carted, 1 + rng.poisson(config.quantity_extra_mean, size=len(slots.item)), 0
    ).astype(np.int64)
    quantity = np.minimum(quantity, 10_000)
    has_cart = np.bincount(slots.session[slots.carted], minlength=n_sessions) > 0
    checkout = has_cart & (rng.random(n_sessions) < config.checkout_rate)
    purchased = (
        slots.carted & checkout[slots.session] & (rng.random(len(slots.item)) < config.purchase_item_rate)
    )

    # Expand slots into events, then append the purchases at the end of their session.
    n_per_slot = 1 + slots.clicked.astype(np.int64) + slots.carted.astype(np.int64)
    ev_slot = np.repeat(np.arange(len(slots.item)), n_per_slot)
    ev_pos = np.arange(len(ev_slot)) - (np.cumsum(n_per_slot) - n_per_slot)[ev_slot]
    ev_type = _SLOT_EVENTS[slots.kind[ev_slot], ev_pos]
    bought = np.flatnonzero(purchased)
    ev_slot = np.concatenate([ev_slot, bought])
    ev_pos = np.concatenate([ev_pos, np.zeros(len(bought), dtype=np.int64)])
    ev_type = np.concatenate([ev_type, np.full(len(bought), PURCHASE, dtype=np.int64)])
    ev_phase = np.concatenate(
        [np.zeros(len(ev_slot) - len(bought), dtype=np.int64), np.ones(len(bought), dtype=np.int64)]
    )
    ev_session = slots.session[ev_slot]

    within = np.lexsort((ev_pos, slots.okey[ev_slot], ev_phase, ev_session))
    ev_slot, ev_type, ev_session = ev_slot[within], ev_type[within], ev_session[within]
    timestamp = start_ms + offset[ev_session] + _offsets_in_session(config, rng, ev_session)
    # Stable on time; ties keep the within-session order established above.
    chrono = np.argsort(timestamp, kind="stable")
    ev_slot, ev_type, ev_session, timestamp = (
        ev_slot[chrono],
        ev_type[chrono],
        ev_session[chrono],
        timestamp[chrono],
    )

    product = np.where(ev_type == SEARCH, -1, slots.item[ev_slot])
    ev_quantity = np.where((ev_type == ADD_TO_CART) | (ev_type == PURCHASE), quantity[ev_slot], 0)
    context = _contexts(rng, ev_type, slots.kind[ev_slot])
    search, queries, results = _searches(config, catalog, rng, ev_type, ev_slot, slots)

    return EventTable(
        session=ev_session,
        type_code=ev_type,
        product=product,
        quantity=ev_quantity,
        context=context,
        search=search,
        timestamp_ms=timestamp,
        session_person=person,
        session_identity=identity,
        session_ids=[f"sess_{token}" for token in hex_tokens(rng, n_sessions, 8)],
        search_query=queries,
        search_results=results,
    )


def _session_offsets(rng: np.random.Generator, n: int, start_ms: int, end_ms: int) -> IntArray:
    """Session start offsets from the window start, with a daily traffic rhythm (rejection sampling)."""
    latest = end_ms - start_ms - _MAX_SESSION_MS - 1
    accept = _HOURLY_TRAFFIC / _HOURLY_TRAFFIC.max()
    kept: list[IntArray] = []
    missing = n
    while missing > 0:
        candidate = rng.integers(1, max(latest, 2), size=2 * missing + 16, dtype=np.int64)
        hour = ((start_ms + candidate) // 3_600_000) % 24
        candidate = candidate[rng.random(len(candidate)) < accept[hour]][:missing]
        kept.append(candidate)
        missing -= len(candidate)
    return np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)


def _identities(shoppers: Shoppers, person: IntArray, rank: IntArray) -> IntArray:
    pre = shoppers.pre_login_sessions[person]
    is_user = person < shoppers.n_users
    return np.where(
        ~is_user | (rank < pre),
        IDENT_ANON,
        np.where((pre > 0) & (rank == pre), IDENT_BOTH, IDENT_USER),
    ).astype(np.int64)


def _draw_slots(
    config: ShopConfig,
    catalog: Catalog,
    shoppers: Shoppers,
    rng: np.random.Generator,
    person: IntArray,
    rank: IntArray,
    offset: IntArray,
    span_ms: int,
) -> _Slots:
    n_sessions = len(person)
    mean_items = np.where(
        person < shoppers.n_users, config.items_per_session_mean, config.anonymous_items_per_session_mean
    )
    per_session = poisson_plus_one(mean_items, n_sessions, rng)
    session = np.repeat(np.arange(n_sessions, dtype=np.int64), per_session)
    first_slot = np.cumsum(per_session) - per_session
    order = np.arange(len(session)) - first_slot[session]
    slot_person = person[session]
    n_slots = len(session)

    # A session mostly stays in one category (a shopper on a mission), with detours.
    session_category = choose_rows(shoppers.category_cdf, person, rng)
    category = np.where(
        rng.random(n_slots) < config.session_focus,
        session_category[session],
        choose_rows(shoppers.category_cdf, slot_person, rng),
    )
    kind = np.full(n_slots, _BROWSE, dtype=np.int64)
    searching = first_slot[rng.random(n_sessions) < config.search_rate]
    kind[searching] = _SEARCH
    returning = rank[session] >= 1
    kind[(kind == _BROWSE) & returning & (rng.random(n_slots) < config.repurchase_rate)] = _REPURCHASE
    repurchase = np.flatnonzero(kind == _REPURCHASE)

    # One batched draw for the slots' products and, when needed, every shopper's staples.
    fresh = np.flatnonzero(kind != _REPURCHASE)
    want_person, want_category = slot_person[fresh], category[fresh]
    n_staples = config.n_staples if len(repurchase) else 0
    generations = _staple_generations(config, span_ms) if n_staples else 1
    if n_staples:
        staple_owner = np.repeat(np.arange(shoppers.n_people, dtype=np.int64), n_staples)
        staple_category = choose_rows(shoppers.category_cdf, staple_owner, rng)
        # Every generation of a staple stays in its category (a new brand of the same thing).
        want_person = np.concatenate([want_person, np.repeat(staple_owner, generations)])
        want_category = np.concatenate([want_category, np.repeat(staple_category, generations)])
    drawn = _sample_products(config, catalog, shoppers, rng, want_person, want_category)

    item = np.empty(n_slots, dtype=np.int64)
    item[fresh] = drawn[: len(fresh)]
    if n_staples:
        staples = drawn[len(fresh) :].reshape(shoppers.n_people, n_staples, generations)
        # A few staples dominate a shopper's basket (milk every week, spices now and then).
        staple_weight = 1.0 / np.arange(1, n_staples + 1)
        which = rng.choice(n_staples, size=len(repurchase), p=staple_weight / staple_weight.sum())
        generation = np.zeros(len(repurchase), dtype=np.int64)
        if generations > 1:
            generation = _staple_generation_at(
                config,
                rng,
                shoppers.n_people,
                n_staples,
                generations,
                slot_person[repurchase],
                which,
                offset[session[repurchase]],
            )
        item[repurchase] = staples[slot_person[repurchase], which, generation]

    if len(catalog.trending):
        late = offset[session] >= span_ms - config.trending_days * _MS_PER_DAY
        swap = np.flatnonzero((kind == _BROWSE) & late & (rng.random(n_slots) < config.trending_rate))
        item[swap] = rng.choice(catalog.trending, size=len(swap))

    u_click, u_cart = rng.random(n_slots), rng.random(n_slots)
    click_rate = np.select(
        [kind == _SEARCH, kind == _REPURCHASE], [config.search_click_rate, 1.0], config.click_rate
    )
    cart_rate = np.where(kind == _REPURCHASE, config.repurchase_add_rate, config.add_to_cart_rate)
    clicked = u_click < click_rate
    carted = clicked & (u_cart < cart_rate)
    return _Slots(session=session, okey=2 * order, kind=kind, item=item, clicked=clicked, carted=carted)


#: Most generations of a staple drawn up front (a staple replaced more often keeps the last).
_MAX_STAPLE_GENERATIONS = 12


def _staple_generations(config: ShopConfig, span_ms: int) -> int:
    """Products drawn per staple: enough for its expected replacements over the window."""
    if config.staple_lifetime_days <= 0:
        return 1
    expected = span_ms / (config.staple_lifetime_days * _MS_PER_DAY)
    return int(min(_MAX_STAPLE_GENERATIONS, 2 + np.ceil(3 * expected)))


def _staple_generation_at(
    config: ShopConfig,
    rng: np.random.Generator,
    n_people: int,
    n_staples: int,
    generations: int,
    person: IntArray,
    staple: IntArray,
    at_ms: IntArray,
) -> IntArray:
    """Which generation of each (person, staple) is current at each time: replacements come as a
    Poisson process (exponential lifetimes; memoryless, so the first one is as far from the
    window's start as any later one from the previous)."""
    lifetime_ms = config.staple_lifetime_days * _MS_PER_DAY
    gaps = rng.exponential(lifetime_ms, size=(n_people, n_staples, generations - 1))
    changes = np.cumsum(gaps, axis=2)
    passed = (changes[person, staple] <= at_ms[:, np.newaxis]).sum(axis=1)
    current: IntArray = np.minimum(passed, generations - 1).astype(np.int64)
    return current


def _sample_products(
    config: ShopConfig,
    catalog: Catalog,
    shoppers: Shoppers,
    rng: np.random.Generator,
    person: IntArray,
    category: IntArray,
) -> IntArray:
    """For each (shopper, category) request, draw a product of that category.

    Within a category, P(product) is proportional to ``exp(log_popularity + taste_strength *
    taste . factors)``: popular products win on average, but each shopper's latent taste reorders
    them, which is the signal beyond popularity. Requests are grouped by category and scored only
    for the shoppers who asked in that category (shoppers stick to a few categories, so this is far
    cheaper than scoring the whole catalog); each group is answered by one ``searchsorted`` over
    the row-wise cumulative sums, rows offset by their index so they form one sorted array.
    """
    out = np.empty(len(person), dtype=np.int64)
    u = rng.random(len(person))
    by_category = np.argsort(category, kind="stable")
    bounds = np.searchsorted(category[by_category], np.arange(catalog.n_categories + 1))
    for c in range(catalog.n_categories):
        requests = by_category[bounds[c] : bounds[c + 1]]
        if len(requests) == 0:
            continue
        members = catalog.order[catalog.cat_start[c] : catalog.cat_end[c]]
        factors = catalog.factors[members].T.copy()
        log_pop = catalog.log_popularity[members]
        askers, row_of_request = np.unique(person[requests], return_inverse=True)
        # Bound the score matrix: chunks of shoppers (requests are sorted by shopper within a chunk).
        chunk = max(1, _BLOCK_ELEMENTS // len(members))
        for first in range(0, len(askers), chunk):
            in_chunk = (row_of_request >= first) & (row_of_request < first + chunk)
            rows = row_of_request[in_chunk] - first
            scores = (
                config.taste_strength * (shoppers.tastes[askers[first : first + chunk]] @ factors) + log_pop
            )
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            np.cumsum(scores, axis=1, out=scores)
            scores /= scores[:, -1:]
            scores += np.arange(len(scores), dtype=np.float64)[:, None]
            column = np.searchsorted(scores.ravel(), rows + u[requests[in_chunk]], side="right")
            column -= rows * len(members)
            out[requests[in_chunk]] = members[np.clip(column, 0, len(members) - 1)]
    return out


def _add_complements(config: ShopConfig, catalog: Catalog, rng: np.random.Generator, slots: _Slots) -> _Slots:
    """After an add_to_cart, sometimes show a complement right after it; some get carted too."""
    if catalog.complements.shape[1] == 0:
        return slots
    parent = np.flatnonzero(slots.carted)
    options = catalog.complements[slots.item[parent]]
    n_options = (options >= 0).sum(axis=1)
    shown = (n_options > 0) & (rng.random(len(parent)) < config.complement_rate)
    parent, options, n_options = parent[shown], options[shown], n_options[shown]
    pick = (rng.random(len(parent)) * n_options).astype(np.int64)
    n_new = len(parent)
    return _Slots(
        session=np.concatenate([slots.session, slots.session[parent]]),
        okey=np.concatenate([slots.okey, slots.okey[parent] + 1]),
        kind=np.concatenate([slots.kind, np.full(n_new, _COMPLEMENT, dtype=np.int64)]),
        item=np.concatenate([slots.item, options[np.arange(n_new), pick]]),
        clicked=np.concatenate([slots.clicked, np.zeros(n_new, dtype=np.bool_)]),
        carted=np.concatenate([slots.carted, rng.random(n_new) < config.complement_add_rate]),
    )


def _offsets_in_session(config: ShopConfig, rng: np.random.Generator, session: IntArray) -> IntArray:
    """Milliseconds from session start: cumulative pauses of at least a second, restarting per session."""
    n = len(session)
    gap = 1_000 + rng.exponential(config.mean_event_gap_seconds * 1_000.0, size=n).astype(np.int64)
    starts = np.ones(n, dtype=np.bool_)
    starts[1:] = session[1:] != session[:-1]
    gap[starts] = 0
    total = np.cumsum(gap)
    session_base = np.maximum.accumulate(np.where(starts, total, 0))
    return np.minimum(total - session_base, _MAX_SESSION_MS)


def _contexts(rng: np.random.Generator, ev_type: IntArray, kind: IntArray) -> IntArray:
    listing = np.where(rng.random(len(ev_type)) < 0.5, CTX_HOME, CTX_CATEGORY)
    on_cart = kind == _COMPLEMENT
    return np.select(
        [
            ev_type == PURCHASE,
            (ev_type == SEARCH) | (ev_type == SEARCH_RESULT_CLICK),
            on_cart,
            ev_type == CLICK,
        ],
        [CTX_CHECKOUT, CTX_SEARCH, CTX_CART, listing],
        CTX_PRODUCT,
    ).astype(np.int64)


def _searches(
    config: ShopConfig,
    catalog: Catalog,
    rng: np.random.Generator,
    ev_type: IntArray,
    ev_slot: IntArray,
    slots: _Slots,
) -> tuple[IntArray, list[str], list[list[int]]]:
    """Query text and result lists of the search events.

    Each (category, search term) has its own result ranking (popularity plus noise); when the
    shopper clicks a result, the product they came for is placed in the list at a position drawn
    with the usual position bias, so clicks reveal taste rather than just list order.
    """
    search_events = np.flatnonzero(ev_type == SEARCH)
    index = np.full(len(ev_type), -1, dtype=np.int64)
    index[search_events] = np.arange(len(search_events))
    n_searches = len(search_events)
    if n_searches == 0:
        return index, [], []

    n_terms = max(len(t) for t in catalog.search_terms)
    rankings: list[list[list[int]]] = []
    for c in range(catalog.n_categories):
        members = catalog.order[catalog.cat_start[c] : catalog.cat_end[c]]
        per_term: list[list[int]] = []
        for _ in range(n_terms):
            noisy = catalog.log_popularity[members] + rng.gumbel(0.0, 0.7, size=len(members))
            per_term.append(members[np.argsort(-noisy, kind="stable")][: config.search_results].tolist())
        rankings.append(per_term)

    slot = ev_slot[search_events]
    target = slots.item[slot]
    category = catalog.category_of[target]
    term = rng.integers(0, n_terms, size=n_searches)
    modifier = rng.integers(0, len(QUERY_MODIFIERS), size=n_searches)
    position = np.minimum(rng.geometric(0.35, size=n_searches) - 1, config.search_results - 1)

    queries: list[str] = []
    results: list[list[int]] = []
    for cat, t, m, pos, want, clicked in zip(
        category.tolist(),
        term.tolist(),
        modifier.tolist(),
        position.tolist(),
        target.tolist(),
        slots.clicked[slot].tolist(),
        strict=True,
    ):
        terms = catalog.search_terms[cat]
        queries.append(QUERY_MODIFIERS[m] + terms[t % len(terms)])
        shown = list(rankings[cat][t])
        if clicked and want not in shown:
            shown[min(pos, len(shown) - 1)] = want
        results.append(shown)
    return index, queries, results
