"""Buy-again: which products people repurchase, and what each shopper is due to buy again.

In shops of consumables (groceries, pet food, printer ink) the best recommendation is often a
product the shopper already buys. Filtering every purchased product out of the lists throws
that signal away; keeping every purchase in them fills lists with one-off purchases (a kettle
is not bought weekly). So purchases stay recommendable when the data says they come back: the
product is a buy-again product (enough of its buyers bought it on more than one day), or this
shopper bought it on more than one day.

The repeat model (in the spirit of TIFU-KNN, Hu et al., SIGIR 2020) scores what a shopper
bought by the time-decayed share of their baskets that held it: each basket weighs
``repeat_decay`` to the power of how many of the shopper's baskets came after it, so what they
buy now counts more than what they bought a year ago. Neighbours enter through the
collaborative model's score, which the ranking adds (`recs.training.fit.signals`). Each shopper's
repeat rate (the share of their purchases that repeat an earlier basket) scales how much room
the repeat model gets in their list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.parameters import RepeatScope
from recs.training.prepare.interactions import PURCHASE_CODE, Interactions
from recs.training.prepare.visits import Visits
from recs.training.prepare.weights import SECONDS_PER_DAY, event_weight_vector

#: Prior strength (in purchases) pulling a shopper's repeat rate towards the shop's.
REPEAT_RATE_PRIOR = 10.0


@dataclass(frozen=True)
class RepurchaseProfile:
    """Per product: how many users bought it, and the share who bought it on 2+ days.

    Attributes
    ----------
    buyers
        Distinct buyers per item.
    rate
        Share of buyers who bought on more than one day (0 without buyers).
    buy_again
        Items whose ``rate`` and ``buyers`` pass the configured thresholds.
    """

    buyers: npt.NDArray[np.int64]
    rate: npt.NDArray[np.float32]
    buy_again: npt.NDArray[np.bool_]


def purchase_days(interactions: Interactions, mask: npt.NDArray[np.bool_] | None = None) -> sp.csr_matrix:
    """users x items number of distinct days with a purchase (float32 CSR)."""
    selected = interactions.event == PURCHASE_CODE
    if mask is not None:
        selected &= mask
    users = interactions.user[selected].astype(np.int64)
    items = interactions.item[selected].astype(np.int64)
    days = np.floor(interactions.timestamp[selected] / SECONDS_PER_DAY).astype(np.int64)
    triples = np.unique(np.stack([users, items, days], axis=1), axis=0) if users.size else np.empty((0, 3))
    matrix = sp.csr_matrix(
        (np.ones(len(triples), dtype=np.float32), (triples[:, 0], triples[:, 1])),
        shape=(interactions.n_users, interactions.n_items),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def repurchase_profile(days: sp.csr_matrix, *, min_rate: float, min_buyers: int) -> RepurchaseProfile:
    """Label buy-again products from a users x items matrix of purchase days."""
    n_items = days.shape[1]
    buyers = np.bincount(days.indices, minlength=n_items).astype(np.int64)
    repeaters = np.bincount(days.indices[days.data >= 2], minlength=n_items).astype(np.int64)
    rate = np.divide(repeaters, buyers, out=np.zeros(n_items, dtype=np.float64), where=buyers > 0).astype(
        np.float32
    )
    return RepurchaseProfile(buyers, rate, (buyers >= min_buyers) & (rate >= min_rate))


def buy_again_scores(days: sp.csr_matrix, profile: RepurchaseProfile) -> sp.csr_matrix:
    """users x items in [0, 1): for each buy-again product a user bought, the product's
    repurchase rate times a saturating function of how often the user bought it."""
    scores = days.copy()
    keep = profile.buy_again[scores.indices]
    scores.data = np.where(
        keep, profile.rate[scores.indices] * (scores.data / (scores.data + 1.0)), 0.0
    ).astype(np.float32)
    scores.eliminate_zeros()
    scores.sort_indices()
    return scores


def purchased_exclusions(days: sp.csr_matrix, profile: RepurchaseProfile) -> sp.csr_matrix:
    """users x items: what a user bought once that is not a buy-again product (never
    re-recommended). A product the user bought on two or more days stays: they buy it again."""
    excluded = days.copy()
    excluded.data = ((~profile.buy_again[excluded.indices]) & (excluded.data < 2)).astype(np.float32)
    excluded.eliminate_zeros()
    excluded.sort_indices()
    return excluded


def scope_strength(
    interactions: Interactions, scope: RepeatScope, event_weights: Mapping[str, float]
) -> npt.NDArray[np.float32]:
    """What each interaction counts for in the repeat model: 1 per purchase (scope
    ``purchase``), or its event's weight over the heaviest event's (scope ``all``: what a
    shopper keeps coming back to, bought or not); 0 leaves it out."""
    if scope == "purchase":
        purchases: npt.NDArray[np.float32] = (interactions.event == PURCHASE_CODE).astype(np.float32)
        return purchases
    vector = event_weight_vector(event_weights)
    heaviest = float(vector.max()) if vector.size else 0.0
    scaled: npt.NDArray[np.float32] = (vector / heaviest if heaviest > 0 else vector).astype(np.float32)
    return scaled[interactions.event]


def _visit_items(
    interactions: Interactions,
    visits: Visits,
    strength: npt.NDArray[np.float32],
    mask: npt.NDArray[np.bool_] | None,
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
]:
    """Distinct (user, visit, item) with their strongest ``strength``, and each visit's rank
    among the user's visits in scope (0 = latest), ordered by user then latest visit first."""
    selected = (strength > 0) & (visits.of_interaction >= 0)
    if mask is not None:
        selected &= mask
    visit = visits.of_interaction[selected]
    item = interactions.item[selected].astype(np.int64)
    if visit.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty, empty, np.empty(0, dtype=np.float64)
    # One integer per (visit, item): a 1-D sort instead of a row-wise unique (profiled).
    n_items = interactions.n_items
    pair = visit * n_items + item
    by_pair = np.argsort(pair, kind="stable")
    sorted_pairs = pair[by_pair]
    firsts = np.flatnonzero(np.concatenate([[True], sorted_pairs[1:] != sorted_pairs[:-1]]))
    strongest = np.maximum.reduceat(strength[selected].astype(np.float64)[by_pair], firsts)
    visit, item = sorted_pairs[firsts] // n_items, sorted_pairs[firsts] % n_items
    user = visits.user[visit].astype(np.int64)
    # Rank the visits in scope, per user, latest first.
    scoped = np.unique(visit)
    owner, start = visits.user[scoped].astype(np.int64), visits.start[scoped]
    order = np.lexsort((-scoped, -start, owner))
    first = np.ones(order.size, dtype=np.bool_)
    first[1:] = owner[order][1:] != owner[order][:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(order.size), 0))
    rank_of_visit = np.empty(order.size, dtype=np.int64)
    rank_of_visit[order] = np.arange(order.size) - group_start
    rank = rank_of_visit[np.searchsorted(scoped, visit)]
    by_time = np.lexsort((item, -rank, user))
    return user[by_time], visit[by_time], item[by_time], rank[by_time], strongest[by_time]


def own_history(
    interactions: Interactions,
    visits: Visits,
    *,
    decay: float,
    strength: npt.NDArray[np.float32] | None = None,
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """users x items in (0, 1]: the decayed share of a user's baskets holding the item.

    A basket (a visit with something in scope: a purchase by default, see `scope_strength`)
    weighs ``decay ** k`` where k of the user's baskets came after it; the share is the weight
    of the baskets with the item (times the item's strength there) over the weight of all the
    user's baskets.
    """
    n_users, n_items = interactions.n_users, interactions.n_items
    if strength is None:
        strength = (interactions.event == PURCHASE_CODE).astype(np.float32)
    user, visit, item, rank, strongest = _visit_items(interactions, visits, strength, mask)
    weight = np.power(np.float64(decay), rank.astype(np.float64))
    scores = sp.csr_matrix((weight * strongest, (user, item)), shape=(n_users, n_items), dtype=np.float64)
    scores.sum_duplicates()
    # Each basket's weight once per user: the denominator.
    first_in_basket = np.ones(visit.size, dtype=np.bool_)
    if visit.size > 1:
        first_in_basket[1:] = visit[1:] != visit[:-1]
    mass = np.bincount(user[first_in_basket], weights=weight[first_in_basket], minlength=n_users)
    scale = np.divide(1.0, mass, out=np.zeros(n_users), where=mass > 0)
    own = sp.csr_matrix(sp.diags(scale) @ scores, dtype=np.float32)
    own.eliminate_zeros()
    own.sort_indices()
    return own


@dataclass(frozen=True)
class RepeatRates:
    """How much shoppers repeat: per user (smoothed towards the shop) and for the whole shop.

    A purchase (or, in scope ``all``, any interaction) repeats when the user had the product in
    an earlier basket; only what comes after a user's first basket counts (the first cannot
    repeat anything).
    """

    per_user: npt.NDArray[np.float32]
    shop: float


def repeat_rates(
    interactions: Interactions,
    visits: Visits,
    *,
    strength: npt.NDArray[np.float32] | None = None,
    mask: npt.NDArray[np.bool_] | None = None,
    prior: float = REPEAT_RATE_PRIOR,
) -> RepeatRates:
    """Each user's share of what they bought (or touched, with another ``strength``) that
    repeats an earlier basket, and the shop's."""
    n_users = interactions.n_users
    if strength is None:
        strength = (interactions.event == PURCHASE_CODE).astype(np.float32)
    user, _, item, rank, _ = _visit_items(interactions, visits, strength, mask)
    if user.size == 0:
        return RepeatRates(np.zeros(n_users, dtype=np.float32), 0.0)
    # Ordered by user, then oldest basket first: a (user, item) seen before is a repeat.
    pair_key = user * interactions.n_items + item
    order = np.lexsort((-rank, pair_key))
    repeat_sorted = np.zeros(order.size, dtype=np.bool_)
    repeat_sorted[1:] = pair_key[order][1:] == pair_key[order][:-1]
    repeat = np.empty(order.size, dtype=np.bool_)
    repeat[order] = repeat_sorted
    oldest = np.zeros(n_users, dtype=np.int64)
    np.maximum.at(oldest, user, rank)
    eligible = rank < oldest[user]
    counted = np.bincount(user[eligible], minlength=n_users).astype(np.float64)
    repeated = np.bincount(user[eligible & repeat], minlength=n_users).astype(np.float64)
    total = counted.sum()
    shop = float(repeated.sum() / total) if total > 0 else 0.0
    # A user with no later purchase (and no prior) has no evidence: the shop's rate.
    denominator = counted + prior
    per_user = np.divide(
        repeated + prior * shop, denominator, out=np.full(n_users, shop), where=denominator > 0
    )
    return RepeatRates(per_user.astype(np.float32), shop)
