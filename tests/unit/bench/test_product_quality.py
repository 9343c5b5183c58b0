"""The product-path quality benchmark's own parts: its splits, metrics, grid widening, the
list the API would serve, and that its baselines share no code with the product they judge."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench import baselines as bl
from bench.datasets import (
    EventTable,
    TableBuilder,
    last_basket_holdout,
    last_fraction_holdout,
    session_holdout,
)
from bench.product_quality import repeat_rates, served_list

REPO = Path(__file__).resolve().parents[3]
FORBIDDEN = ("recs.training", "recs.engine", "recs.evaluation")
DAY = 86_400.0


def table_of(
    rows: list[tuple[str, str, str, float, str | None]], anonymous: tuple[str, ...] = ()
) -> EventTable:
    """An event table from (visitor, item, event type, time, basket) rows, in that order."""
    builder = TableBuilder()
    for visitor, item, kind, stamp, basket in rows:
        builder.add(builder.visitor(visitor, known=visitor not in anonymous), item, kind, stamp, basket)
    return builder.build()


def held_out(table: EventTable, train: np.ndarray) -> list[tuple[str, str]]:
    return [(table.users[table.user[r]], table.items[table.item[r]]) for r in np.flatnonzero(~train)]


# ---------------------------------------------------------------------------------- splits
def test_the_last_fifth_of_each_users_ratings_by_time_is_held_out_ties_in_file_order() -> None:
    # Given u1 with 10 ratings out of time order (i7 and i8 tie at t=8 across the cut, i7
    # first in the file), u2 with 4 ratings and u3 with a single one
    rows: list[tuple[str, str, str, float, str | None]] = [
        ("u1", f"i{n}", "purchase", float(t), None) for n, t in enumerate([5, 1, 2, 3, 4, 0, 6, 8, 8, 9])
    ]
    rows += [("u2", f"j{n}", "purchase", float(n), None) for n in range(4)]
    rows += [("u3", "k0", "purchase", 0.0, None)]
    table = table_of(rows)
    # When split
    split = last_fraction_holdout(table, np.ones(len(table), dtype=np.bool_), 0.2)
    # Then u1 loses its last 2 (floor(0.2 x 10)): i9 and, of the tied pair, the later in the
    # file; u2 its last one (at least 1); u3 keeps its only rating and is not scored
    assert sorted(held_out(table, split.train)) == [("u1", "i8"), ("u1", "i9"), ("u2", "j3")]
    assert [table.users[u] for u in split.users] == ["u1", "u2"]
    assert [[table.items[i] for i in r] for r in split.relevant] == [["i8", "i9"], ["j3"]]


def test_the_split_of_the_training_part_only_sees_the_rows_it_is_given() -> None:
    # Given 5 ratings of one user, the last one already held out for test
    table = table_of([("u1", f"i{n}", "purchase", float(n), None) for n in range(5)])
    training = np.array([True, True, True, True, False])
    # When the validation split is carved from the training part
    validation = last_fraction_holdout(table, training, 0.2)
    # Then it holds out the last training rating, never the test one
    assert held_out(table, validation.train) == [("u1", "i3"), ("u1", "i4")]
    assert [table.items[i] for i in validation.relevant[0]] == ["i3"]


def test_the_last_basket_of_each_household_is_held_out_whole() -> None:
    # Given h1 with three baskets (b3 last, b2 and b3 written out of order) and h2 with one
    rows: list[tuple[str, str, str, float, str | None]] = [
        ("h1", "milk", "purchase", 1 * DAY, "b1"),
        ("h1", "eggs", "purchase", 1 * DAY, "b1"),
        ("h1", "milk", "purchase", 9 * DAY, "b3"),
        ("h1", "bread", "purchase", 9 * DAY + 60, "b3"),
        ("h1", "tea", "purchase", 5 * DAY, "b2"),
        ("h2", "milk", "purchase", 2 * DAY, "b4"),
    ]
    table = table_of(rows)
    # When split
    split = last_basket_holdout(table, np.ones(len(table), dtype=np.bool_))
    # Then h1's b3 leaves training and its products are the relevant ones; h2 (one basket) is
    # neither held out nor scored
    assert held_out(table, split.train) == [("h1", "milk"), ("h1", "bread")]
    assert [table.users[u] for u in split.users] == ["h1"]
    assert sorted(table.items[i] for i in split.relevant[0]) == ["bread", "milk"]


def test_grocery_holds_out_the_last_session_with_a_purchase_and_all_of_it() -> None:
    # Given a user whose last session only browses, and whose session before bought milk
    rows: list[tuple[str, str, str, float, str | None]] = [
        ("u1", "tea", "purchase", 1 * DAY, "s1"),
        ("u1", "milk", "view", 5 * DAY, "s2"),
        ("u1", "milk", "purchase", 5 * DAY + 30, "s2"),
        ("u1", "jam", "view", 5 * DAY + 60, "s2"),
        ("u1", "soap", "view", 8 * DAY, "s3"),
    ]
    table = table_of(rows)
    # When split the grocery way
    split = session_holdout(table, np.ones(len(table), dtype=np.bool_), grocery=True)
    # Then the whole of s2 leaves training (the view of jam too), only the purchase is relevant
    assert held_out(table, split.train) == [("u1", "milk"), ("u1", "milk"), ("u1", "jam")]
    assert [table.items[i] for i in split.relevant[0]] == ["milk"]


def test_discovery_holds_out_the_last_session_and_every_product_it_touched() -> None:
    # Given a user with two sessions, and an anonymous visitor with two sessions
    rows: list[tuple[str, str, str, float, str | None]] = [
        ("u1", "shoe", "view", 1 * DAY, "s1"),
        ("u1", "hat", "view", 3 * DAY, "s2"),
        ("u1", "scarf", "click", 3 * DAY + 10, "s2"),
        ("u1", "scarf", "add_to_cart", 3 * DAY + 20, "s2"),
        ("anonymous:a", "hat", "view", 1 * DAY, "s3"),
        ("anonymous:a", "shoe", "view", 4 * DAY, "s4"),
    ]
    table = table_of(rows, anonymous=("anonymous:a",))
    # When split the discovery way
    split = session_holdout(table, np.ones(len(table), dtype=np.bool_), grocery=False)
    # Then u1's last session is held out (relevant: hat and scarf); the anonymous visitor,
    # who gets no list of its own, is neither scored nor held out
    assert [table.users[u] for u in split.users] == ["u1"]
    assert sorted(table.items[i] for i in split.relevant[0]) == ["hat", "scarf"]
    assert {user for user, _ in held_out(table, split.train)} == {"u1"}


# ---------------------------------------------------------------------------------- metrics
def test_ndcg_recall_and_hit_rate_on_a_known_answer() -> None:
    # Given a list hitting at ranks 1 and 3 out of three relevant items, and a list of misses
    ranked = np.array([[7, 1, 8, 2, 3, -1, -1, -1, -1, -1], [4, 5, 6, -1, -1, -1, -1, -1, -1, -1]])
    relevant = [np.array([7, 8, 9]), np.array([9])]
    # When scored at 10
    metrics = bl.ranking_metrics(ranked, relevant, k=10)
    # Then DCG = 1 + 1/log2(4) = 1.5 over the ideal 1 + 1/log2(3) + 1/log2(4)
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert metrics["ndcg"][0] == pytest.approx(1.5 / ideal)
    assert metrics["recall"][0] == pytest.approx(2 / 3)
    assert metrics["hit"].tolist() == [1.0, 0.0]
    assert metrics["ndcg"][1] == 0.0


def test_the_ideal_dcg_counts_at_most_k_relevant_items() -> None:
    # Given 12 relevant items and a list of 10 hits / Then NDCG is 1 and recall 10/12
    metrics = bl.ranking_metrics(np.arange(10)[None, :], [np.arange(12)], k=10)
    assert metrics["ndcg"][0] == pytest.approx(1.0)
    assert metrics["recall"][0] == pytest.approx(10 / 12)


# ---------------------------------------------------------------------------------- tuning
def test_a_grid_whose_best_is_on_its_end_is_widened_until_the_best_is_interior() -> None:
    # Given an objective peaking at 10^2.3 (about 200), a grid 1..100, and a second axis
    # that is not numeric
    def objective(params: dict[str, Any]) -> float:
        x = float(params["x"])
        return -((math.log10(x) - 2.3) ** 2) + (0.1 if params["flag"] else 0.0)

    axes = [bl.Axis("x", (1.0, 10.0, 100.0)), bl.Axis("flag", (False, True), numeric=False)]
    # When tuned
    tuned = bl.tune_interior(axes, objective, max_extensions=3)
    # Then the grid grew one geometric step to 1000, and the best point (100) is interior
    assert tuned.axes["x"] == [1.0, 10.0, 100.0, 1000.0]
    assert tuned.best == {"x": 100.0, "flag": True}
    assert tuned.interior
    assert tuned.extensions == 1
    assert len(tuned.trials) == 8  # every point once, the new value with both flags


def test_an_axis_still_on_its_edge_after_the_last_widening_is_reported() -> None:
    # Given an objective growing without bound and one widening allowed
    tuned = bl.tune_interior([bl.Axis("x", (1, 2, 4), integer=True)], lambda p: float(p["x"]), 1)
    # Then the axis reached 8 and is reported on its edge
    assert tuned.axes["x"] == [1, 2, 4, 8]
    assert not tuned.interior
    assert tuned.edges == ["x=8 (grid 1..8)"]


def test_widening_stops_at_an_axis_bound() -> None:
    # Given an objective preferring small values and an axis bounded below by 1
    tuned = bl.tune_interior([bl.Axis("k", (4, 16, 64), integer=True, lowest=1)], lambda p: -float(p["k"]), 5)
    # Then the grid stops at the bound, and says the best is on its edge
    assert tuned.axes["k"] == [1, 4, 16, 64]
    assert tuned.best == {"k": 1}
    assert tuned.edges == ["k=1 (grid 1..64, the axis bound)"]


# ---------------------------------------------------------------------------------- served lists
def test_the_served_list_is_the_personal_list_then_popular_without_duplicates_or_seen() -> None:
    # Given a personal list, the popular products and the products a user has already seen
    personal, popular = ["a", "b"], ["b", "c", "d", "e", "f"]
    # When served 4 at a time
    # Then the personal list comes first in its order, popular fills without b again or seen c
    assert served_list(personal, popular, {"c"}, k=4) == ["a", "b", "d", "e"]
    # And a user without a list gets the popular products alone
    assert served_list(None, popular, k=3) == ["b", "c", "d"]
    # And seen products are dropped from the personal list too
    assert served_list(["a", "z", "b"], popular, {"z"}, k=3) == ["a", "b", "c"]


def test_baseline_lists_are_filled_from_popularity_skipping_seen_items() -> None:
    # Given three users: u1 saw i0 and i1, the others one item each (i0 is the most popular)
    table = table_of(
        [
            ("u1", "i0", "view", 0.0, None),
            ("u1", "i1", "view", 1.0, None),
            ("u2", "i0", "view", 2.0, None),
            ("u3", "i2", "view", 3.0, None),
        ]
    )
    data = bl.training_data(table, np.ones(len(table), dtype=np.bool_))
    # When popularity recommends to u1 with and without its seen items
    filtered = bl.popularity(data, exclude_seen=True)(np.array([0]))[0]
    unfiltered = bl.popularity(data, exclude_seen=False)(np.array([0]))[0]
    # Then the filtered list skips i0 and i1; lists run out as -1 when nothing is left
    assert [table.items[i] for i in filtered if i >= 0] == ["i2"]
    assert [table.items[i] for i in unfiltered if i >= 0] == ["i0", "i1", "i2"]


def test_bought_most_ranks_by_baskets_then_by_the_latest_purchase() -> None:
    # Given tea bought in two baskets, milk and jam in one each (jam the more recent)
    table = table_of(
        [
            ("u1", "tea", "purchase", 1.0, "b1"),
            ("u1", "tea", "purchase", 1.5, "b1"),
            ("u1", "milk", "purchase", 2.0, "b2"),
            ("u1", "tea", "purchase", 3.0, "b3"),
            ("u1", "jam", "purchase", 4.0, "b4"),
            ("u2", "soap", "purchase", 5.0, "b5"),
        ]
    )
    data = bl.training_data(table, np.ones(len(table), dtype=np.bool_))
    # When ranked / Then tea (2 baskets), jam (latest), milk, then the popular rest
    ranked = bl.bought_most(data)(np.array([0]))[0]
    assert [table.items[i] for i in ranked if i >= 0] == ["tea", "jam", "milk", "soap"]


def test_a_users_repeat_rate_counts_lines_repeating_an_earlier_basket() -> None:
    # Given 4 purchase lines: tea twice in b1 (neither repeats), tea and milk in b2 (tea repeats)
    table = table_of(
        [
            ("u1", "tea", "purchase", 1.0, "b1"),
            ("u1", "tea", "purchase", 1.1, "b1"),
            ("u1", "tea", "purchase", 9.0, "b2"),
            ("u1", "milk", "purchase", 9.1, "b2"),
            ("u2", "tea", "view", 9.2, "b3"),
        ]
    )
    # When measured / Then 1 of u1's 4 lines repeats; u2 bought nothing
    rate = repeat_rates(table, np.ones(len(table), dtype=np.bool_))
    assert rate[0] == pytest.approx(0.25)
    assert math.isnan(rate[1])


# ---------------------------------------------------------------------------------- independence
def test_the_baselines_and_data_load_none_of_the_products_training_model_or_evaluation() -> None:
    # Given a fresh interpreter / When it imports the baselines and the data sets
    code = (
        "import json, sys\n"
        "import bench.baselines, bench.datasets, bench.datasets as d\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('recs'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(done.stdout)
    # Then none of the product's training, model or evaluation modules was loaded
    assert not [m for m in loaded if m.startswith(FORBIDDEN)], loaded


@pytest.mark.parametrize("module", ["product_quality", "baselines", "datasets"])
def test_the_benchmark_modules_import_nothing_from_the_product_they_judge(module: str) -> None:
    # Given the module's source / When its imports are read (lazy ones inside functions too)
    tree = ast.parse((REPO / "bench" / f"{module}.py").read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    # Then none is the product's training, model or evaluation code (bench.figures' paired
    # bootstrap judges the goals; the lists and metrics come from here)
    assert not [name for name in imported if name.startswith(FORBIDDEN)], imported


def test_a_login_seen_only_in_the_held_out_session_links_nobody() -> None:
    # Given a user whose anonymous browsing is linked only by their last (held-out) session
    from bench.datasets import _last_sessions

    events = [
        {"sessionId": "a1", "anonId": "x", "eventType": "view"},
        {"sessionId": "u1", "userId": "u", "eventType": "view"},
        {"sessionId": "u2", "userId": "u", "anonId": "x", "eventType": "view"},
    ]
    # When the sessions the split may hold out are found / Then it is that last one (u2), so
    # its anonId link is left out of the identity stitching every method trains on
    assert _last_sessions(events, [1.0, 2.0, 3.0], purchase_only=False) == {"u2"}
    # and for a grocery, the last session with a purchase
    events.append({"sessionId": "u1", "userId": "u", "eventType": "purchase"})
    assert _last_sessions(events, [1.0, 2.0, 3.0, 2.5], purchase_only=True) == {"u1"}
