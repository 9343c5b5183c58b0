"""Buy-again: which products people repurchase, and which of them each user is due to buy again.

In shops of consumables (groceries, pet food, printer ink) the best recommendation is often a
product the shopper already buys. Filtering every purchased product out of the lists throws
that signal away; keeping every purchase in them fills lists with one-off purchases (a kettle
is not bought weekly). So products earn the buy-again label from the data: a product is a
buy-again product when enough of its buyers bought it on more than one day. For those products
(and only those) a user's own purchases become a ranking signal, and they are not filtered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.interactions import PURCHASE_CODE, Interactions
from recs.training.matrix import SECONDS_PER_DAY


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
    """users x items: what a user bought that is not a buy-again product (never re-recommended)."""
    excluded = days.copy()
    excluded.data = (~profile.buy_again[excluded.indices]).astype(np.float32)
    excluded.eliminate_zeros()
    excluded.sort_indices()
    return excluded
