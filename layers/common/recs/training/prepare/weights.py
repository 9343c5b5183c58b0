"""Per-interaction weights: the event type's weight, the sample rate, time decay (numpy only, so
Prepare can aggregate them for the Spark engine without scipy)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from recs.contracts.events import EventType
from recs.training.prepare.interactions import EVENT_CODES, Interactions

SECONDS_PER_DAY = 86_400.0


def event_weight_vector(weights: Mapping[str, float]) -> npt.NDArray[np.float32]:
    """Weight per event-type code; types without a weight count zero."""
    vector = np.zeros(len(EventType), dtype=np.float32)
    for name, code in EVENT_CODES.items():
        vector[code] = float(weights.get(name, 0.0))
    return vector


def interaction_weights(
    interactions: Interactions,
    weights: Mapping[str, float],
    *,
    now_ts: float,
    half_life_days: float,
) -> npt.NDArray[np.float32]:
    """Per-interaction weight: the event type's weight, times the events it stands for (its
    sample rate), halved every ``half_life_days`` before ``now_ts`` (0 = no decay). Events after
    ``now_ts`` are not amplified."""
    values = event_weight_vector(weights)[interactions.event]
    if interactions.weight is not None:
        values = values * interactions.weight
    if half_life_days > 0:
        age_days = np.maximum(0.0, (now_ts - interactions.timestamp) / SECONDS_PER_DAY)
        values = values * np.exp2(-age_days / half_life_days).astype(np.float32)
    return values.astype(np.float32)
