"""What a run derives from its interactions before any model: the confidence matrix, purchase
history, the buy-again signal and each user's exclusions. Computed the same way for the full
window (publishing) and for the training part of a holdout split (evaluation, tuning)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.training.interactions import Interactions
from recs.training.matrix import confidence_matrix
from recs.training.parameters import TrainingParameters
from recs.training.repurchase import (
    RepurchaseProfile,
    buy_again_scores,
    purchase_days,
    purchased_exclusions,
    repurchase_profile,
)


@dataclass(frozen=True)
class Signals:
    """Matrices over the run's full user x item index space.

    Attributes
    ----------
    confidence
        Summed, decayed event weights (the models' input).
    purchase_days
        Distinct days with a purchase per (user, item).
    repurchase
        The buy-again labels of products.
    boost
        Buy-again score per (user, product bought before) for buy-again products.
    exclude
        What each user must not be recommended: purchases of other products (when configured).
    """

    confidence: sp.csr_matrix
    purchase_days: sp.csr_matrix
    repurchase: RepurchaseProfile
    boost: sp.csr_matrix
    exclude: sp.csr_matrix


def derive_signals(
    interactions: Interactions,
    params: TrainingParameters,
    *,
    now_ts: float,
    mask: npt.NDArray[np.bool_] | None = None,
) -> Signals:
    """Signals of the interactions selected by ``mask`` (all when None), decayed towards ``now_ts``."""
    confidence = confidence_matrix(
        interactions, params.event_weights, now_ts=now_ts, half_life_days=params.half_life_days, mask=mask
    )
    days = purchase_days(interactions, mask)
    profile = repurchase_profile(
        days, min_rate=params.buy_again_min_rate, min_buyers=params.buy_again_min_buyers
    )
    if params.exclude_purchased:
        exclude = purchased_exclusions(days, profile)
    else:
        exclude = sp.csr_matrix(days.shape, dtype=np.float32)
    return Signals(confidence, days, profile, buy_again_scores(days, profile), exclude)
