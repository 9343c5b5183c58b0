"""Similar-items lists blended with session co-occurrence: hand-made sessions with a known answer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from recs.training.fit import lists
from recs.training.prepare.interactions import Interactions, build_interactions
from tests.unit.training.conftest import NOW, EventFactory

END = NOW.timestamp()


def _interactions(make_event: EventFactory, sessions: dict[str, tuple[str, list[str]]]) -> Interactions:
    """session id -> (shopper, products viewed in it, in order)."""
    events = [
        make_event(user=user, product=product, session=session, days_ago=1.0 + step / 1000)
        for session, (user, products) in sessions.items()
        for step, product in enumerate(products)
    ]
    return build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)


def _index(interactions: Interactions) -> dict[str, int]:
    return {product: i for i, product in enumerate(interactions.items)}


def _confidence(interactions: Interactions) -> sp.csr_matrix:
    """Each shopper x product once (the shopper-level cosine only reads the pattern)."""
    matrix = sp.csr_matrix(
        (np.ones(len(interactions), dtype=np.float32), (interactions.user, interactions.item)),
        shape=(interactions.n_users, interactions.n_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def _no_model_neighbours(n_items: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    return np.full((n_items, 1), -1, dtype=np.int32), np.full((n_items, 1), -np.inf, dtype=np.float32)


def test_session_similarity_is_the_shrunk_cosine_of_sessions(make_event: EventFactory) -> None:
    # Given a and b seen together in two sessions, a alone in a third, c never with them
    interactions = _interactions(
        make_event,
        {
            "s1": ("alice", ["a", "b"]),
            "s2": ("bob", ["b", "a"]),
            "s3": ("carol", ["a", "c"]),
        },
    )
    at = _index(interactions)
    # When the session similarity is computed with a shrinkage of 1
    similarity = lists.session_similarity(interactions, shrink=1.0).toarray()
    # Then a-b is 2 / (sqrt(3 x 2) + 1), a-c is 1 / (sqrt(3 x 1) + 1), b-c is absent, no diagonal
    assert similarity[at["a"], at["b"]] == pytest.approx(2 / (np.sqrt(6) + 1))
    assert similarity[at["b"], at["a"]] == pytest.approx(2 / (np.sqrt(6) + 1))
    assert similarity[at["a"], at["c"]] == pytest.approx(1 / (np.sqrt(3) + 1))
    assert similarity[at["b"], at["c"]] == 0.0
    assert not similarity.diagonal().any()


def test_events_without_a_session_add_no_session_similarity(make_event: EventFactory) -> None:
    # Given two products viewed by one shopper outside any session
    events = [make_event(product="a"), make_event(product="b")]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    # When the session similarity is computed / Then it is empty and square
    similarity = lists.session_similarity(interactions)
    assert similarity.shape == (2, 2)
    assert similarity.nnz == 0


def test_the_session_share_decides_between_sessions_and_shoppers(make_event: EventFactory) -> None:
    # Given shoppers who view a and b in the same visits, and a and c in different visits
    sessions = {f"ab{n}": (f"u{n}", ["a", "b"]) for n in range(3)}
    sessions.update({f"a{n}": (f"v{n}", ["a"]) for n in range(4)})
    sessions.update({f"c{n}": (f"v{n}", ["c"]) for n in range(4)})
    interactions = _interactions(make_event, sessions)
    at = _index(interactions)
    confidence = _confidence(interactions)
    available = np.ones(interactions.n_items, dtype=np.bool_)
    by_session = lists.session_similarity(interactions, shrink=0.0)

    def neighbours_of_a(share: float) -> list[int]:
        similar = lists.similar_items(
            confidence,
            _no_model_neighbours(interactions.n_items),
            2,
            available,
            sessions=by_session,
            session_share=share,
        )
        return [other for other, _ in similar[at["a"]]]

    # When a's list leans on sessions / on shoppers
    # Then b (same visits) leads with sessions, c (same shoppers, 4 of them) leads with shoppers
    assert neighbours_of_a(1.0) == [at["b"]]
    assert neighbours_of_a(0.0)[0] == at["c"]
    assert neighbours_of_a(0.75)[0] == at["b"]


def test_without_sessions_the_lists_are_the_shopper_level_ones(make_event: EventFactory) -> None:
    # Given shoppers with overlapping histories
    interactions = _interactions(
        make_event,
        {"s1": ("alice", ["a", "b", "c"]), "s2": ("bob", ["a", "b"]), "s3": ("carol", ["b", "c"])},
    )
    confidence = _confidence(interactions)
    available = np.ones(interactions.n_items, dtype=np.bool_)
    model = _no_model_neighbours(interactions.n_items)
    # When lists are built without sessions and with a session share of 0
    plain = lists.similar_items(confidence, model, 5, available)
    share_zero = lists.similar_items(
        confidence, model, 5, available, sessions=lists.session_similarity(interactions), session_share=0.0
    )
    # Then both rank the same neighbours in the same order
    assert {i: [o for o, _ in r] for i, r in plain.items()} == {
        i: [o for o, _ in r] for i, r in share_zero.items()
    }


def test_blended_lists_skip_unavailable_products_and_fill_below(make_event: EventFactory) -> None:
    # Given a and b in the same sessions, b no longer sold, and a model that also likes c
    interactions = _interactions(
        make_event, {f"s{n}": (f"u{n}", ["a", "b"]) for n in range(3)} | {"t": ("z", ["c"])}
    )
    at = _index(interactions)
    confidence = _confidence(interactions)
    available = np.ones(interactions.n_items, dtype=np.bool_)
    available[at["b"]] = False
    model_ids, model_scores = _no_model_neighbours(interactions.n_items)
    model_ids[at["a"], 0], model_scores[at["a"], 0] = at["c"], 0.5
    # When a's list is built
    similar = lists.similar_items(
        confidence, (model_ids, model_scores), 3, available, sessions=lists.session_similarity(interactions)
    )
    # Then b is left out and the model's c fills the list
    assert [other for other, _ in similar[at["a"]]] == [at["c"]]


def test_an_item_without_session_evidence_keeps_its_shopper_level_list(make_event: EventFactory) -> None:
    # Given a shop whose events carry no session id: shoppers viewed a with b, and a with c
    events = [
        make_event(user=user, product=product)
        for user, products in {"u1": "ab", "u2": "ab", "u3": "ac", "u4": "ac", "u5": "ab"}.items()
        for product in products
    ]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    at = _index(interactions)
    available = np.ones(interactions.n_items, dtype=np.bool_)
    # When lists are built leaning entirely on sessions
    similar = lists.similar_items(
        _confidence(interactions),
        _no_model_neighbours(interactions.n_items),
        2,
        available,
        sessions=lists.session_similarity(interactions),
        session_share=1.0,
    )
    # Then a still gets its shopper-level neighbours, b (3 shoppers) before c (2)
    assert [other for other, _ in similar[at["a"]]] == [at["b"], at["c"]]


def test_proximity_counts_a_pair_by_how_close_it_was_in_the_visit(make_event: EventFactory) -> None:
    # Given one visit a, a (clicked again: one step), b, c, and another visit of d alone with a
    events = [
        make_event("view", user="u", product="a", session="s1", days_ago=1.000),
        make_event("click", user="u", product="a", session="s1", days_ago=0.999),
        make_event("view", user="u", product="b", session="s1", days_ago=0.998),
        make_event("view", user="u", product="c", session="s1", days_ago=0.997),
        make_event("view", user="v", product="d", session="s2", days_ago=0.5),
        make_event("view", user="v", product="a", session="s2", days_ago=0.4),
    ]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    at = _index(interactions)
    # When the proximity co-occurrence is computed
    co, totals = lists.session_proximity(interactions)
    dense = co.toarray()
    # Then neighbours count 1, two steps apart 1/2, both ways, and nothing across visits but a-d
    assert dense[at["a"], at["b"]] == dense[at["b"], at["a"]] == 1.0
    assert dense[at["b"], at["c"]] == 1.0
    assert dense[at["a"], at["c"]] == dense[at["c"], at["a"]] == 0.5
    assert dense[at["a"], at["d"]] == 1.0
    assert dense[at["b"], at["d"]] == 0.0
    assert not dense.diagonal().any()
    # And each item's total is its row sum (the cosine's norm)
    assert totals[at["a"]] == pytest.approx(2.5)


def test_proximity_reaches_no_further_than_its_window(make_event: EventFactory) -> None:
    # Given one visit longer than the window
    length = lists.PROXIMITY_WINDOW + 2
    events = [
        make_event("view", user="u", product=f"p{step}", session="s", days_ago=1.0 - step / 10_000)
        for step in range(length)
    ]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    at = _index(interactions)
    # When the proximity co-occurrence is computed
    dense = lists.session_proximity(interactions)[0].toarray()
    # Then the window's last step counts and the one beyond it does not
    window = lists.PROXIMITY_WINDOW
    assert dense[at["p0"], at[f"p{window}"]] == pytest.approx(1 / window)
    assert dense[at["p0"], at[f"p{window + 1}"]] == 0.0


def test_the_proximity_similarity_is_shrunk_like_the_plain_one(make_event: EventFactory) -> None:
    # Given a visit a, b
    events = [
        make_event("view", user="u", product="a", session="s", days_ago=1.0),
        make_event("view", user="u", product="b", session="s", days_ago=0.9),
    ]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    at = _index(interactions)
    # When the similarity is computed by proximity with a shrink of 1
    similarity = lists.session_similarity(interactions, shrink=1.0, proximity=True).toarray()
    # Then a-b is 1 / (sqrt(1 x 1) + 1)
    assert similarity[at["a"], at["b"]] == pytest.approx(0.5)


@pytest.mark.parametrize("count", [lists.session_cooccurrence, lists.session_proximity])
def test_only_the_rows_asked_for_are_computed_and_they_are_exact(
    make_event: EventFactory, count: lists.SessionCount
) -> None:
    # Given visits over six products, some products seen twice in a visit
    visits = {"s1": "abcab", "s2": "bcd", "s3": "adef", "s4": "fea"}
    events = [
        make_event("view", user=f"u_{visit}", product=product, session=visit, days_ago=1.0 - step / 1000)
        for visit, products in visits.items()
        for step, product in enumerate(products)
    ]
    interactions = build_interactions(events, start_ts=END - 30 * 86_400, end_ts=END)
    at = _index(interactions)
    rows = [at["a"], at["e"]]
    # When only a's and e's rows are computed
    full, full_totals = count(interactions)
    part, part_totals = count(interactions, rows=rows)
    # Then those rows are the full matrix's, the others empty, and every item's norm is kept
    assert np.array_equal(part.toarray()[rows], full.toarray()[rows])
    others = [i for i in range(interactions.n_items) if i not in rows]
    assert part[others].nnz == 0
    assert np.allclose(part_totals, full_totals)
