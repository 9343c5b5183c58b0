"""Sessions for next-item evaluation: the log, the time split, the prediction points and HR/MRR.

Nothing here imports the product: the protocol must not share code with what it judges.

A session is a visitor's product events under one ``sessionId`` in time order (re-sent copies
of an event dropped), with consecutive events on the same product folded into one step: a
view, click and add-to-cart of one product are one look at it, not three predictions. Each
step keeps the type and time of its latest event, which is what the live session signal keeps.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

#: Events that name a product the visitor interacted with (a search names none).
PRODUCT_EVENTS = frozenset({"view", "click", "add_to_cart", "purchase", "search_result_click"})
SECONDS_PER_DAY = 86_400.0
#: A gap longer than this starts a new MovieLens "session" (the usual 30-minute rule).
SESSION_GAP_SECONDS = 30 * 60.0


@dataclass(frozen=True)
class Session:
    """One session: its steps (product, latest event type, time of that event), oldest first."""

    key: str
    visitor: str
    user: str | None
    start: float
    items: tuple[str, ...]
    events: tuple[str, ...]
    times: tuple[float, ...]

    def before(self, cutoff: float) -> Session:
        """The steps that happened before ``cutoff`` (a training session cut at the split)."""
        keep = sum(1 for t in self.times if t < cutoff)
        return replace(self, items=self.items[:keep], events=self.events[:keep], times=self.times[:keep])


@dataclass(frozen=True)
class Prediction:
    """Predict ``sessions[session].items[position]`` from the steps before it."""

    session: int
    position: int


def epoch_seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def sessions_from_events(events: Iterable[Mapping[str, Any]]) -> list[Session]:
    """Every session of the log with at least two steps, ordered by start (ties by key)."""
    seen_ids: set[str] = set()
    raw: dict[str, list[tuple[float, int, str, str]]] = {}
    visitors: dict[str, tuple[str, str | None]] = {}
    for order, event in enumerate(events):
        key, product = event.get("sessionId"), event.get("productId")
        if not key or not product or event.get("eventType") not in PRODUCT_EVENTS:
            continue
        if event["eventId"] in seen_ids:
            continue  # a client retry re-sends the same event
        seen_ids.add(event["eventId"])
        stamp = epoch_seconds(str(event["timestamp"]))
        raw.setdefault(key, []).append((stamp, order, str(product), str(event["eventType"])))
        user, anon = event.get("userId"), event.get("anonId")
        visitor, known = visitors.get(key, ("", None))
        if user and known is None:
            visitors[key] = (str(user), str(user))  # the login session: the user from here on
        elif not visitor:
            visitors[key] = (str(anon or ""), None)
    sessions = [_steps(key, visitors[key], sorted(rows)) for key, rows in raw.items()]
    kept = [s for s in sessions if len(s.items) >= 2]
    return sorted(kept, key=lambda s: (s.start, s.key))


def _steps(key: str, visitor: tuple[str, str | None], rows: list[tuple[float, int, str, str]]) -> Session:
    items: list[str] = []
    kinds: list[str] = []
    times: list[float] = []
    for stamp, _, product, kind in rows:
        if items and items[-1] == product:
            kinds[-1], times[-1] = kind, stamp  # the same look at the product: keep its latest event
            continue
        items.append(product)
        kinds.append(kind)
        times.append(stamp)
    return Session(key, visitor[0], visitor[1], rows[0][0], tuple(items), tuple(kinds), tuple(times))


def movielens_sessions(path: Path, gap_seconds: float = SESSION_GAP_SECONDS) -> list[Session]:
    """MovieLens 100K ratings as sessions: each user's ratings in time order (ties: file order),
    cut where two ratings are more than ``gap_seconds`` apart; every rating a ``view``."""
    per_user: dict[str, list[tuple[float, int, str]]] = {}
    with path.open(encoding="utf-8") as handle:
        rows = csv.reader(handle, delimiter="\t")
        next(rows)  # the header: user_id:token item_id:token rating:float timestamp:float
        for order, (user, item, _, stamp) in enumerate(rows):
            per_user.setdefault(user, []).append((float(stamp), order, f"ml_{item}"))
    sessions: list[Session] = []
    for user, ratings in per_user.items():
        ratings.sort()
        run: list[tuple[float, int, str]] = []
        for rating in ratings:
            if run and rating[0] - run[-1][0] > gap_seconds:
                sessions.append(_rating_session(user, len(sessions), run))
                run = []
            run.append(rating)
        sessions.append(_rating_session(user, len(sessions), run))
    kept = [s for s in sessions if len(s.items) >= 2]
    return sorted(kept, key=lambda s: (s.start, s.key))


def _rating_session(user: str, number: int, run: list[tuple[float, int, str]]) -> Session:
    # Ratings of one second keep their file order a millisecond apart: the session signal orders
    # by time, and ties would reorder its newest products.
    rows: list[tuple[float, int, str, str]] = []
    for stamp, order, item in run:
        at = max(stamp, rows[-1][0] + 0.001) if rows else stamp
        rows.append((at, order, item, "view"))
    return _steps(f"ml_session_{number:06d}", (f"ml_user_{user}", f"ml_user_{user}"), rows)


def session_events(sessions: Sequence[Session]) -> list[dict[str, Any]]:
    """The sessions as shop events (one per step), for data that did not come as events."""
    events: list[dict[str, Any]] = []
    for session in sessions:
        for step, (item, kind, stamp) in enumerate(
            zip(session.items, session.events, session.times, strict=True)
        ):
            events.append(
                {
                    "eventId": f"{session.key}-{step:04d}",
                    "eventType": kind,
                    "timestamp": datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z"),
                    "userId": session.visitor,
                    "sessionId": session.key,
                    "productId": item,
                }
            )
    events.sort(key=lambda e: str(e["timestamp"]))
    return events


# ---------------------------------------------------------------------------------- split
@dataclass(frozen=True)
class TimeSplit:
    """Sessions starting at or after ``cutoff`` are evaluated; earlier ones (cut at it) train."""

    train: list[Session]
    evaluated: list[Session]
    cutoff: float


def time_split(sessions: Sequence[Session], cutoff: float) -> TimeSplit:
    train = [s.before(cutoff) for s in sessions if s.start < cutoff]
    return TimeSplit(
        train=[s for s in train if len(s.items) >= 2],
        evaluated=[s for s in sessions if s.start >= cutoff],
        cutoff=cutoff,
    )


def split_days_before(sessions: Sequence[Session], end: float, days: float) -> TimeSplit:
    """The last ``days`` before ``end`` evaluated, everything earlier for training."""
    return time_split(sessions, end - days * SECONDS_PER_DAY)


def prediction_points(sessions: Sequence[Session], eligible: set[str]) -> list[Prediction]:
    """Every step t >= 1 whose product is new to the session and ``eligible``.

    A product already in the prefix (a return to it, the purchase of what was carted) is no
    prediction point: every method leaves the prefix's products out of its answer, as the
    product does, so each would count the same miss. Products outside ``eligible`` (never seen
    in training, or not for sale) could not be recommended by anyone.
    """
    points: list[Prediction] = []
    for index, session in enumerate(sessions):
        seen = {session.items[0]}
        for position in range(1, len(session.items)):
            item = session.items[position]
            if item not in seen and item in eligible:
                points.append(Prediction(index, position))
            seen.add(item)
    return points


# ---------------------------------------------------------------------------------- metrics
def rank_of_target(
    scores: npt.NDArray[np.float64],
    target: int,
    tie_break: npt.NDArray[np.float64],
    excluded: npt.NDArray[np.int64],
) -> int:
    """0-based position of ``target`` in the full ranking of every item outside ``excluded``.

    Higher score first, ties by higher ``tie_break`` (training popularity), then by lower index:
    the exact rank without sorting the catalog.
    """
    score, breaker = scores[target], tie_break[target]
    ahead = (scores > score) | (
        (scores == score)
        & ((tie_break > breaker) | ((tie_break == breaker) & (np.arange(scores.size) < target)))
    )
    ahead[excluded] = False
    return int(ahead.sum())


def hit_and_reciprocal_rank(rank: int | None, k: int) -> tuple[float, float]:
    """HR@k and MRR@k of one prediction from the target's 0-based rank (None: not listed)."""
    if rank is None or rank >= k:
        return 0.0, 0.0
    return 1.0, 1.0 / (rank + 1)


def rank_in_list(ranked: Sequence[str], target: str) -> int | None:
    try:
        return list(ranked).index(target)
    except ValueError:
        return None


@dataclass(frozen=True)
class Scores:
    """Per-prediction HR@k and MRR@k of one method, aligned with the prediction points."""

    hits: npt.NDArray[np.float64]
    reciprocal_ranks: npt.NDArray[np.float64]

    @classmethod
    def from_ranks(cls, ranks: Sequence[int | None], k: int) -> Scores:
        pairs = np.array([hit_and_reciprocal_rank(r, k) for r in ranks], dtype=np.float64).reshape(-1, 2)
        return cls(pairs[:, 0], pairs[:, 1])

    @property
    def hr(self) -> float:
        return float(self.hits.mean()) if self.hits.size else 0.0

    @property
    def mrr(self) -> float:
        return float(self.reciprocal_ranks.mean()) if self.reciprocal_ranks.size else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"hr": round(self.hr, 5), "mrr": round(self.mrr, 5)}


def per_session(values: npt.NDArray[np.float64], points: Sequence[Prediction]) -> npt.NDArray[np.float64]:
    """Per-prediction values summed per session and scaled by sessions / predictions.

    Their mean is the prediction-level mean, and a bootstrap over them resamples whole sessions,
    whose predictions are not independent of each other.
    """
    sessions, of_point = np.unique(np.array([p.session for p in points], dtype=np.int64), return_inverse=True)
    sums = np.bincount(of_point, weights=values, minlength=sessions.size)
    return np.asarray(sums * (sessions.size / max(len(points), 1)), dtype=np.float64)
