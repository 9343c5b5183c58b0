"""What a run derives from its interactions before any model: the model's input, each shopper's
profile, purchase history, the repeat model and each user's exclusions. Computed the same way
for the full window (publishing) and for the training part of a holdout split (evaluation,
tuning).

How a published list is scored (`recs.training.fit.ranking.rank`, boost weight 1):

    score = collaborative score / the user's best collaborative score + boost

where the collaborative score comes from the model (ALS or EASE) applied to the user's
``profile`` (their interactions, the recent ones weighing more), and

    boost = buy_again_weight x (user's repeat rate / shop's repeat rate) ** repeat_personal
            x own share of baskets (`recs.training.fit.repurchase.own_history`)

on the products the user bought and may buy again. The search (`recs.training.evaluate.search`) learns
the weight, the personal exponent and the basket decay per shop on validation, so how many
slots go to buy-again and how many to discovery follows the shop and each shopper's own habits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.fit.repurchase import (
    RepeatRates,
    RepurchaseProfile,
    own_history,
    purchase_days,
    purchased_exclusions,
    repeat_rates,
    repurchase_profile,
    scope_strength,
)
from recs.training.parameters import SignalParameters
from recs.training.prepare.interactions import Interactions
from recs.training.prepare.matrix import confidence_matrix
from recs.training.prepare.visits import Visits, find_visits


@dataclass(frozen=True)
class Signals:
    """Matrices over the run's full user x item index space.

    Attributes
    ----------
    confidence
        Summed, time-decayed event weights (the models' input).
    profile
        How much each of a user's products counts when scoring them: 1, down to nearly 0 for
        what they touched long ago in their own history (`recency_profile`); same sparsity as
        ``confidence``.
    purchase_days
        Distinct days with a purchase per (user, item).
    repurchase
        The buy-again labels of products.
    own
        The repeat model: decayed share of the user's baskets holding the product.
    rates
        Repeat rates per user and for the shop.
    boost
        What the repeat model adds to a product's normalized score (see the module docstring).
    exclude
        What each user must not be recommended: one-off purchases (when configured).
    """

    confidence: sp.csr_matrix
    profile: sp.csr_matrix
    purchase_days: sp.csr_matrix
    repurchase: RepurchaseProfile
    own: sp.csr_matrix
    rates: RepeatRates
    boost: sp.csr_matrix
    exclude: sp.csr_matrix


def derive_signals(
    interactions: Interactions,
    params: SignalParameters,
    *,
    now_ts: float,
    mask: npt.NDArray[np.bool_] | None = None,
    visits: Visits | None = None,
) -> Signals:
    """Signals of the interactions selected by ``mask`` (all when None), decayed towards ``now_ts``."""
    confidence = confidence_matrix(
        interactions, params.event_weights, now_ts=now_ts, half_life_days=params.half_life_days, mask=mask
    )
    visits = visits or find_visits(interactions, gap_minutes=params.visit_gap_minutes, mask=mask)
    days = purchase_days(interactions, mask)
    profile = repurchase_profile(
        days, min_rate=params.buy_again_min_rate, min_buyers=params.buy_again_min_buyers
    )
    if params.exclude_purchased:
        exclude = purchased_exclusions(days, profile)
    else:
        exclude = sp.csr_matrix(days.shape, dtype=np.float32)
    strength = scope_strength(interactions, params.repeat_scope, params.event_weights)
    own = own_history(interactions, visits, decay=params.repeat_decay, strength=strength, mask=mask)
    rates = repeat_rates(interactions, visits, strength=strength, mask=mask)
    return Signals(
        confidence=confidence,
        profile=recency_profile(interactions, confidence, params.profile_half_life, mask=mask),
        purchase_days=days,
        repurchase=profile,
        own=own,
        rates=rates,
        boost=repeat_boost(own, rates, exclude, params),
        exclude=exclude,
    )


def repeat_boost(
    own: sp.csr_matrix, rates: RepeatRates, exclude: sp.csr_matrix, params: SignalParameters
) -> sp.csr_matrix:
    """``buy_again_weight x (rate_u / shop rate) ** repeat_personal x own``, without excluded
    products (a one-off purchase is never pushed back into a list)."""
    if params.buy_again_weight <= 0 or own.nnz == 0:
        return sp.csr_matrix(own.shape, dtype=np.float32)
    if rates.shop > 0 and params.repeat_personal > 0:
        personal = np.power(rates.per_user / np.float32(rates.shop), np.float32(params.repeat_personal))
    else:
        personal = np.ones(own.shape[0], dtype=np.float32)
    scale = (params.buy_again_weight * personal).astype(np.float32)
    boost = sp.csr_matrix(sp.diags(scale) @ own, dtype=np.float32)
    if exclude.nnz:
        boost = sp.csr_matrix(boost - boost.multiply(exclude > 0), dtype=np.float32)
    boost.eliminate_zeros()
    boost.sort_indices()
    return boost


def recency_profile(
    interactions: Interactions,
    confidence: sp.csr_matrix,
    half_life: float,
    *,
    mask: npt.NDArray[np.bool_] | None = None,
) -> sp.csr_matrix:
    """Each user's products weighted by how recently the user touched them:
    ``2 ** (-position / half_life)``, where position is the share of the user's products they
    touched more recently (0 for the latest); 1 everywhere when ``half_life`` is 0.

    What a shopper looked at last says most about what they look at next; measuring recency in
    the shopper's own history (not in days) treats a shopper who comes twice a year like one
    who comes daily.
    """
    if half_life <= 0 or confidence.nnz == 0:
        ones = confidence.copy()
        ones.data = np.ones_like(ones.data)
        return ones
    selected = np.ones(len(interactions), dtype=np.bool_) if mask is None else mask
    n_items = interactions.n_items
    key = interactions.user[selected].astype(np.int64) * n_items + interactions.item[selected]
    stamp = interactions.timestamp[selected]
    by_pair = np.argsort(key, kind="stable")
    sorted_keys = key[by_pair]
    firsts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    pairs = sorted_keys[firsts]
    last = np.maximum.reduceat(stamp[by_pair], firsts) if firsts.size else np.empty(0)
    user = (pairs // n_items).astype(np.int64)
    # Rank each user's products by their last touch, newest first (ties by product index).
    order = np.lexsort((pairs, -last, user))
    counts = np.bincount(user, minlength=interactions.n_users)
    firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(pairs.size, dtype=np.float64)
    position[order] = (np.arange(pairs.size) - firsts[user[order]]) / np.maximum(counts[user[order]], 1)
    weight = np.exp2(-position / half_life)
    recency = sp.csr_matrix((weight, (user, pairs % n_items)), shape=confidence.shape, dtype=np.float64)
    # Only the products of the confidence matrix (events with a weight) are kept.
    pattern = confidence.copy()
    pattern.data = np.ones_like(pattern.data)
    profile = sp.csr_matrix(pattern.multiply(recency), dtype=np.float32)
    profile.eliminate_zeros()
    profile.sort_indices()
    return profile
