"""Visits (baskets, sessions) and the per-shopper holdout built on them.

A visit is what a shopper did in one go: the events of one ``sessionId``, or, for events sent
without one, consecutive events of the same visitor less than ``visit_gap_minutes`` apart.
Visits give the repeat model its baskets and the evaluation its unit: each shopper's last visit
is held out, so the family, the buy-again mix and the gate are decided on every shopper with
history instead of the few who happened to come back in the last days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recs.training.prepare.interactions import Interactions


@dataclass(frozen=True)
class Visits:
    """Visits of a set of interactions.

    Attributes
    ----------
    of_interaction
        Visit index of each interaction (dense, ``0 .. n_visits - 1``).
    user
        Visitor of each visit.
    start
        Time of each visit's first event (epoch seconds).
    rank_from_last
        0 for each visitor's latest visit, 1 for the one before, ...
    per_user
        Number of visits of each visitor (``n_users`` entries).
    """

    of_interaction: npt.NDArray[np.int64]
    user: npt.NDArray[np.int32]
    start: npt.NDArray[np.float64]
    rank_from_last: npt.NDArray[np.int64]
    per_user: npt.NDArray[np.int64]

    @property
    def n_visits(self) -> int:
        return int(self.user.shape[0])


def find_visits(
    interactions: Interactions, *, gap_minutes: float, mask: npt.NDArray[np.bool_] | None = None
) -> Visits:
    """The visits of the interactions selected by ``mask`` (all when None).

    Interactions outside the mask get visit -1. Sessions are per visitor: the same ``sessionId``
    under two visitors (an anonymous history merged into a user) makes two visits only if the
    visitors differ.
    """
    n = len(interactions)
    selected = np.ones(n, dtype=np.bool_) if mask is None else mask
    index = np.flatnonzero(selected)
    user = interactions.user[index].astype(np.int64)
    stamp = interactions.timestamp[index]
    session = interactions.basket[index]
    # Events without a session: a new visit whenever the visitor changes or pauses too long.
    order = np.lexsort((stamp, user))
    unsessioned = session[order] < 0
    loose = order[unsessioned]
    starts = np.ones(loose.size, dtype=np.bool_)
    if loose.size > 1:
        starts[1:] = (user[loose][1:] != user[loose][:-1]) | (np.diff(stamp[loose]) > gap_minutes * 60.0)
    # One key per visit: (visitor, session) for sessions, (visitor, -1 - n) for the rest.
    code = np.empty(order.size, dtype=np.int64)
    code[~unsessioned] = session[order][~unsessioned]
    code[unsessioned] = -np.cumsum(starts.astype(np.int64))
    # One integer per (visitor, code), ordered as the pair is: a 1-D unique is much cheaper than
    # a row-wise one (profiled: most of the search's time at 100k users went there).
    shift = -int(code.min()) if code.size and code.min() < 0 else 0
    span = (int(code.max()) + shift + 1) if code.size else 1
    keys, visit_sorted = np.unique(user[order] * span + (code + shift), return_inverse=True)
    visit_sorted = np.asarray(visit_sorted, dtype=np.int64).reshape(-1)
    n_visits = int(keys.size)
    start = _group_min(visit_sorted, stamp[order], n_visits)
    visit_user = (keys // span).astype(np.int32)
    # Latest first within each visitor; ties by visit index keep it deterministic.
    by_recency = np.lexsort((-np.arange(n_visits), -start, visit_user))
    rank = np.empty(n_visits, dtype=np.int64)
    first_of_user = np.ones(n_visits, dtype=np.bool_)
    if n_visits > 1:
        first_of_user[1:] = visit_user[by_recency][1:] != visit_user[by_recency][:-1]
    group_start = np.maximum.accumulate(np.where(first_of_user, np.arange(n_visits), 0))
    rank[by_recency] = np.arange(n_visits) - group_start
    of_interaction = np.full(n, -1, dtype=np.int64)
    of_interaction[index[order]] = visit_sorted
    return Visits(
        of_interaction=of_interaction,
        user=visit_user,
        start=start,
        rank_from_last=rank,
        per_user=np.bincount(visit_user, minlength=interactions.n_users).astype(np.int64),
    )


def _group_min(
    group: npt.NDArray[np.int64], values: npt.NDArray[np.float64], n_groups: int
) -> npt.NDArray[np.float64]:
    """The smallest value of each group (``group`` holds every id in 0..n_groups-1)."""
    if n_groups == 0:
        return np.empty(0, dtype=np.float64)
    by_group = np.argsort(group, kind="stable")
    sorted_groups = group[by_group]
    firsts = np.flatnonzero(np.concatenate([[True], sorted_groups[1:] != sorted_groups[:-1]]))
    smallest: npt.NDArray[np.float64] = np.minimum.reduceat(values[by_group], firsts)
    return smallest


def last_visit_holdout(
    interactions: Interactions,
    *,
    gap_minutes: float,
    fraction: float,
    mask: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """True for the interactions held out: each known user's last visit.

    A user with a single visit keeps its first part and has the last ``fraction`` of its
    interactions held out (at least one, never all), so a shop whose shoppers came once still
    has something to evaluate on. Anonymous visitors are never held out: nobody is evaluated on
    them, and their history trains the model. Only interactions selected by ``mask`` take part
    (the validation split is carved from the training part this way).
    """
    selected = np.ones(len(interactions), dtype=np.bool_) if mask is None else mask.copy()
    visits = find_visits(interactions, gap_minutes=gap_minutes, mask=selected)
    held = np.zeros(len(interactions), dtype=np.bool_)
    index = np.flatnonzero(selected)
    if index.size == 0:
        return held
    visit = visits.of_interaction[index]
    owner = interactions.user[index]
    known = interactions.is_user[owner]
    several = visits.per_user[owner] >= 2
    latest = visits.rank_from_last[visit] == 0
    held[index[known & several & latest]] = True
    # Single-visit users: the tail of their interactions by time (ties by position).
    single = index[known & ~several]
    if single.size:
        users = interactions.user[single]
        order = np.lexsort((single, interactions.timestamp[single], users))
        ordered, sorted_users = single[order], users[order]
        counts = np.bincount(sorted_users, minlength=interactions.n_users)
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        position = np.arange(ordered.size) - firsts[sorted_users]
        total = counts[sorted_users]
        tail = np.minimum(np.maximum(1, np.floor(fraction * total)), total - 1)
        held[ordered[position >= total - tail]] = True
    return held
