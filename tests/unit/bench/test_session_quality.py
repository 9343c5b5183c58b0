"""The session benchmark's machinery on hand-made data with a known answer: sessions and the time
split, prediction points, HR/MRR, the baselines, the interior grid, and the product's request."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bench.session_baselines import TrainingSessions, item_knn_scorer, popularity_scorer, vsknn_scorer
from bench.session_data import (
    Prediction,
    Scores,
    Session,
    per_session,
    prediction_points,
    rank_in_list,
    rank_of_target,
    sessions_from_events,
    time_split,
)
from bench.session_product import MemoryTable, ProductPath, shipped_options
from bench.session_quality import pooled_judge, tune_group
from bench.session_tuning import Axis, grid_search
from recs.store_layout import POINTER_KEY, list_row, similar_pk

DAY = 86_400.0


def _event(n: int, session: str, product: str, kind: str = "view", **ids: str) -> dict[str, Any]:
    minute, second = divmod(n, 60)
    return {
        "eventId": f"e{n}",
        "eventType": kind,
        "timestamp": f"2026-01-01T00:{minute:02d}:{second:02d}Z",
        "sessionId": session,
        "productId": product,
        **(ids or {"anonId": "anon1"}),
    }


def _session(key: str, items: str, start: float, user: str | None = None) -> Session:
    """A session of one-letter products, a step per second from ``start``."""
    times = tuple(start + i for i in range(len(items)))
    return Session(key, user or key, user, start, tuple(items), ("view",) * len(items), times)


# ---------------------------------------------------------------------------------- sessions
def test_a_log_becomes_sessions_of_steps() -> None:
    # Given a session with a re-sent event, a view-click-cart run on one product, a search, and
    # a login halfway; and a session of a single product
    events = [
        _event(1, "s1", "a"),
        _event(2, "s1", "a", "click"),
        _event(2, "s1", "a", "click"),  # the same eventId again: a client retry
        _event(3, "s1", "a", "add_to_cart", anonId="anon1", userId="u1"),
        _event(4, "s1", "b", userId="u1"),
        _event(5, "s1", "a", "purchase", userId="u1"),
        {**_event(6, "s1", "x", "search"), "productId": None},
        _event(7, "s2", "c"),
    ]
    # When sessions are built
    sessions = sessions_from_events(events)
    # Then the run on a is one step with its latest event, a return to a is a new step, the
    # search and the one-step session are gone, and the session belongs to the user who logged in
    assert len(sessions) == 1
    session = sessions[0]
    assert session.items == ("a", "b", "a")
    assert session.events == ("add_to_cart", "view", "purchase")
    assert (session.user, session.visitor) == ("u1", "u1")


def test_the_time_split_cuts_training_sessions_at_the_cutoff() -> None:
    # Given a session before the cutoff that runs past it, one too short once cut, and one that
    # starts after it
    early = _session("early", "abc", start=10 * DAY - 2)
    short = _session("short", "fg", start=10 * DAY - 1)
    late = _session("late", "de", start=10 * DAY + 5)
    # When split at day 10
    split = time_split([early, short, late], cutoff=10 * DAY)
    # Then training keeps the steps before the cutoff (sessions of two or more), the late one is evaluated
    assert [s.items for s in split.train] == [("a", "b")]
    assert [s.key for s in split.evaluated] == ["late"]


def test_each_new_product_after_the_first_step_is_a_prediction_point() -> None:
    # Given a session that returns to a, and a product z nobody may be shown
    sessions = [_session("s", "abazc", start=0.0)]
    # When its prediction points are listed with z not eligible
    points = prediction_points(sessions, eligible={"a", "b", "c"})
    # Then b and c are predicted (from a / from a,b,a,z); the return to a and z are not
    assert points == [Prediction(0, 1), Prediction(0, 4)]


# ---------------------------------------------------------------------------------- metrics
def test_the_exact_rank_breaks_ties_by_popularity_and_skips_excluded_items() -> None:
    # Given scores where item 3 ties with item 1 and item 0 is excluded
    scores = np.array([9.0, 5.0, 1.0, 5.0, 7.0])
    popularity = np.array([0.0, 10.0, 0.0, 3.0, 0.0])
    # When item 3's rank is taken with item 0 excluded
    rank = rank_of_target(scores, 3, popularity, np.array([0], dtype=np.int64))
    # Then only item 4 (higher score) and item 1 (same score, more popular) are ahead
    assert rank == 2


def test_hr_and_mrr_on_a_known_answer() -> None:
    # Given targets at positions 0 and 4 of lists of 5, and one missing
    ranks = [
        rank_in_list(list("abcde"), "a"),
        rank_in_list(list("abcde"), "e"),
        rank_in_list(list("ab"), "z"),
    ]
    # When scored at k = 5 and at k = 2
    at_5, at_2 = Scores.from_ranks(ranks, 5), Scores.from_ranks(ranks, 2)
    # Then HR@5 = 2/3, MRR@5 = (1 + 1/5) / 3; at k = 2 only the first counts
    assert at_5.hr == pytest.approx(2 / 3)
    assert at_5.mrr == pytest.approx((1 + 0.2) / 3)
    assert (at_2.hr, at_2.mrr) == pytest.approx((1 / 3, 1 / 3))


def test_per_session_values_average_to_the_per_prediction_mean() -> None:
    # Given three predictions in session 0 and one in session 5
    points = [Prediction(0, 1), Prediction(0, 2), Prediction(0, 3), Prediction(5, 1)]
    values = np.array([1.0, 0.0, 1.0, 1.0])
    # When folded per session
    folded = per_session(values, points)
    # Then there is one value per session and their mean is the mean over predictions
    assert folded.size == 2
    assert folded.mean() == pytest.approx(values.mean())


# ---------------------------------------------------------------------------------- baselines
TOY = [
    _session("t1", "ab", 0.0),
    _session("t2", "ab", 10.0),
    _session("t3", "cd", 20.0),
    _session("t4", "acx", 30.0),
    _session("t5", "xy", 40.0),
    _session("t6", "xy", 50.0),
]


def test_popularity_ranks_by_sessions() -> None:
    # Given the toy sessions / When popularity scores / Then a and x (3 sessions) lead
    data = TrainingSessions.build(TOY)
    scores = popularity_scorer(data)(data.encode(["c"]))
    assert scores[data.index["a"]] == scores[data.index["x"]] == 3.0


def test_item_knn_follows_the_last_product() -> None:
    # Given the toy sessions, where b always comes with a and d with c
    data = TrainingSessions.build(TOY)
    scorer = item_knn_scorer(data, shrink=0.0)

    def rank(prefix: list[str], target: str) -> int:
        encoded = data.encode(prefix)
        return rank_of_target(scorer(encoded), data.index[target], data.popularity, encoded)

    # When the prefix ends with a / with c
    # Then b, respectively d, is the first product outside the prefix
    assert rank(["c", "a"], "b") == 0
    assert rank(["a", "c"], "d") == 0


def test_v_sknn_finds_the_sessions_sharing_the_prefix() -> None:
    # Given the toy sessions / When V-SKNN (2 neighbours) scores the prefix x
    data = TrainingSessions.build(TOY)
    scores = vsknn_scorer(data, k=2, m=10, decay="linear")(data.encode(["x"]))
    # Then y, in both of x's closest sessions, beats everything else
    best_other = max(scores[data.index[p]] for p in "abcd")
    assert scores[data.index["y"]] > best_other


def test_v_sknn_only_looks_at_the_most_recent_sessions() -> None:
    # Given the toy sessions / When only the single most recent session sharing a may be used
    data = TrainingSessions.build(TOY)
    scores = vsknn_scorer(data, k=5, m=1, decay="none")(data.encode(["a"]))
    # Then only t4's products score (not b, from older sessions)
    assert scores[data.index["c"]] > 0
    assert scores[data.index["b"]] == 0


# ---------------------------------------------------------------------------------- the grid
def test_a_best_value_on_the_edge_is_extended_until_interior() -> None:
    # Given a score peaking at 16 and a grid from 1 to 4
    axis = Axis("k", (1, 2, 4), lower=1, integer=True)
    # When searched
    result = grid_search([axis], lambda p: (-abs(np.log2(p["k"]) - 4),))
    # Then the grid grew upward until 16 was inside it
    assert result.best == {"k": 16}
    assert result.axes["k"] == [1, 2, 4, 8, 16, 32]
    assert result.placement == {"k": "interior"}


def test_a_best_value_at_the_axis_bound_is_reported_as_such() -> None:
    # Given a score that falls with the weight, on a grid starting at its bound 0
    axes = [Axis("w", (0.0, 0.5, 1.0), lower=0.0, upper=1.0), Axis("kind", ("x", "y"), numeric=False)]
    # When searched
    result = grid_search(axes, lambda p: (-p["w"] + (p["kind"] == "y"),))
    # Then 0 is chosen "at bound" (nothing below 0 to try) and the categorical choice is y
    assert result.best == {"w": 0.0, "kind": "y"}
    assert result.placement == {"w": "at bound", "kind": "categorical"}
    assert len(result.trials) == 6


# ---------------------------------------------------------------------------------- the product
def _model_table(similar: dict[str, list[str]]) -> MemoryTable:
    """A published version holding only similar-items lists (scores falling down each list)."""
    rows = [
        list_row(similar_pk(p), "v1", [(n, 1.0 - i / 10, "similar-items") for i, n in enumerate(ns)], "g", 0)
        for p, ns in similar.items()
    ]
    rows.append({"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": "v1", "generatedAt": "g"})
    return MemoryTable(rows)


def test_the_anonymous_request_serves_neighbours_of_the_prefix_but_never_the_prefix() -> None:
    # Given published similar items, and a session that viewed a, then b
    path = ProductPath(_model_table({"a": ["b", "c", "d"], "b": ["a", "e"]}))
    session = _session("s", "abz", 0.0)
    # When the real service answers the anonymous homepage after those two steps
    answer = path.anonymous(path.service(shipped_options()), session, 2, limit=5)
    # Then neighbours of the newest product lead and a and b themselves are not served
    assert answer[0] == "e"
    assert not {"a", "b"} & set(answer)
    assert {"c", "d"} <= set(answer)


# ---------------------------------------------------------------------------------- the product's defaults
def _hits(rate: float, n: int) -> np.ndarray:
    """n predictions of which the first rate x n hit."""
    return (np.arange(n) < round(rate * n)).astype(np.float64)


def test_a_default_moves_only_to_a_value_better_pooled_and_worse_on_no_shop() -> None:
    # Given two shops of 300 one-prediction sessions each, a shipped weight of 0.5, a weight of 1
    # that wins pooled by what shop A gains while shop B loses, and a weight of 0 better on both
    per_shop = [[Prediction(s, 1) for s in range(300)] for _ in range(2)]
    rates = {0.0: (0.6, 0.6), 0.5: (0.5, 0.5), 1.0: (1.0, 0.3)}

    def measure(params: dict[str, Any]) -> Scores:
        a, b = rates[params["w"]]
        hits = np.concatenate([_hits(a, 300), _hits(b, 300)])
        return Scores(hits, hits)

    judge = pooled_judge(["A", "B"], per_shop)
    # When the group is tuned
    chosen, record = tune_group(
        [Axis("w", (0.0, 0.5, 1.0), lower=0.0, upper=1.0)], {"w": 0.5}, measure, judge
    )
    # Then the grid's best (1) is refused for shop B's loss and 0 is taken
    assert record["best"] == {"w": 1.0}
    assert chosen == {"w": 0.0}
    assert record["chosenMinusShippedHr"]["B"]["low"] > 0


def test_a_default_stays_when_nothing_beats_it_decidedly() -> None:
    # Given one shop where another weight is better by one hit in 300
    per_shop = [[Prediction(s, 1) for s in range(300)]]

    def measure(params: dict[str, Any]) -> Scores:
        hits = _hits(0.5 + (1 / 300 if params["w"] == 1.0 else 0.0), 300)
        return Scores(hits, hits)

    # When the group is tuned / Then the shipped value stays, and the record says by how little
    chosen, record = tune_group(
        [Axis("w", (0.0, 0.5, 1.0), lower=0.0, upper=1.0)], {"w": 0.5}, measure, pooled_judge(["A"], per_shop)
    )
    assert chosen == {"w": 0.5}
    assert record["bestMinusShippedHr"]["pooled"]["low"] <= 0
