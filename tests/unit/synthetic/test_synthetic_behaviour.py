"""The synthetic shop behaves like a shop: funnel, search, popularity, tastes, identities, repurchase."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import numpy as np

from recs.contracts.events import DEFAULT_EVENT_WEIGHTS
from recs_tools.synthetic import SyntheticShop

Event = dict[str, Any]


def _by_session(events: list[Event]) -> dict[str, list[Event]]:
    sessions: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        sessions[event["sessionId"]].append(event)
    return sessions


def _interactions(events: list[Event]) -> list[Event]:
    return [e for e in events if "productId" in e]


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def test_purchases_follow_add_to_cart_of_the_same_product(shop: SyntheticShop) -> None:
    # Given the events of each session, in time order
    purchases = 0
    for events in _by_session(shop.events).values():
        carted: set[str] = set()
        engaged: set[str] = set()
        for event in events:
            kind, product = event["eventType"], str(event.get("productId"))
            # Then a purchase comes after an add_to_cart of the same product in the session
            if kind == "purchase":
                assert product in carted
                purchases += 1
            # ... an add_to_cart after the product was viewed or picked from search results
            elif kind == "add_to_cart":
                assert product in engaged
                carted.add(product)
            # ... and a click on a product after it was viewed
            elif kind == "click":
                assert product in engaged
            elif kind in ("view", "search_result_click"):
                engaged.add(product)
    assert purchases > 0


def test_purchases_close_their_session(shop: SyntheticShop) -> None:
    # Given sessions that check out
    for events in _by_session(shop.events).values():
        kinds = [e["eventType"] for e in events]
        if "purchase" in kinds:
            # Then nothing but purchases follows the first purchase (checkout ends the visit)
            first = kinds.index("purchase")
            assert set(kinds[first:]) == {"purchase"}


def test_the_funnel_drops_off_realistically(demo_shop: SyntheticShop) -> None:
    # Given event counts per type
    counts = Counter(e["eventType"] for e in demo_shop.events)

    # Then each funnel step loses shoppers, and views convert at a few percent
    assert counts["view"] > counts["click"] > counts["add_to_cart"] > counts["purchase"] > 0
    assert 0.01 < counts["purchase"] / counts["view"] < 0.15
    assert counts["search"] > counts["search_result_click"] > 0


def test_search_result_clicks_pick_a_shown_result(shop: SyntheticShop) -> None:
    # Given sessions with searches
    clicks = 0
    for events in _by_session(shop.events).values():
        shown: set[str] = set()
        for event in events:
            if event["eventType"] == "search":
                # Then a search has query text and results but no product
                assert event["query"].strip()
                assert 0 < len(event["results"]) <= shop.config.search_results
                assert len(set(event["results"])) == len(event["results"])
                assert "productId" not in event
                shown.update(event["results"])
            elif event["eventType"] == "search_result_click":
                # ... and a result click picks one of the results shown before it in the session
                assert event["productId"] in shown
                clicks += 1
    assert clicks > 0


def test_popularity_is_heavy_tailed(demo_shop: SyntheticShop) -> None:
    # Given interactions per product
    counts = np.sort(
        np.array(list(Counter(e["productId"] for e in _interactions(demo_shop.events)).values()))
    )[::-1]

    # Then the top 10% of products draw a large share and the head dwarfs the median
    top = counts[: len(demo_shop.products) // 10].sum() / counts.sum()
    assert top > 0.4
    assert counts[0] > 10 * np.median(counts)


def test_users_concentrate_on_their_favourite_categories(shop: SyntheticShop) -> None:
    # Given each user's favourite categories (ground truth) and their interactions
    inside: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for event in _interactions(shop.events):
        user = event.get("userId")
        if user is not None:
            total[user] += 1
            inside[user] += event["category"] in shop.favourite_categories[user]

    # Then most of a user's interactions fall there, far above the favourites' share of categories
    share = np.mean([inside[u] / total[u] for u in total])
    baseline = shop.config.n_favourite_categories / shop.config.n_categories
    assert share > 0.65
    assert share > 1.8 * baseline


def test_users_come_back_over_several_days(demo_shop: SyntheticShop) -> None:
    # Given the sessions and active days of each user
    sessions: dict[str, set[str]] = defaultdict(set)
    days: dict[str, set[str]] = defaultdict(set)
    for event in demo_shop.events:
        if "userId" in event:
            sessions[event["userId"]].add(event["sessionId"])
            days[event["userId"]].add(event["timestamp"][:10])

    # Then most users return, some often, on different days
    n_sessions = np.array([len(s) for s in sessions.values()])
    assert np.mean(n_sessions > 1) > 0.6
    assert n_sessions.max() >= 10
    assert np.mean([len(d) > 1 for d in days.values()]) > 0.5


def test_anonymous_visitors_have_short_histories(demo_shop: SyntheticShop) -> None:
    # Given events of purely anonymous visitors (never linked to a user) and of users
    per_anon = Counter(
        e["anonId"]
        for e in demo_shop.events
        if "userId" not in e and e["anonId"] not in demo_shop.anon_to_user
    )
    per_user = Counter(e["userId"] for e in demo_shop.events if "userId" in e)

    # Then they exist and their histories are shorter than users'
    assert len(per_anon) > 0.5 * demo_shop.config.n_anonymous
    assert np.median(list(per_anon.values())) < np.median(list(per_user.values()))


def test_anonymous_visitors_log_in_later(shop: SyntheticShop) -> None:
    # Given users who browsed anonymously before logging in
    assert shop.anon_to_user
    assert set(shop.anon_to_user) <= set(shop.anonymous_ids)
    for anon, user in shop.anon_to_user.items():
        anonymous = [
            _parse(e["timestamp"]) for e in shop.events if e.get("anonId") == anon and "userId" not in e
        ]
        login = [e for e in shop.events if e.get("anonId") == anon and "userId" in e]

        # Then they have anonymous-only events first, then a login session naming both ids
        assert anonymous
        assert login
        assert {e["userId"] for e in login} == {user}
        assert len({e["sessionId"] for e in login}) == 1
        assert max(anonymous) < min(_parse(e["timestamp"]) for e in login)


def test_opted_out_users_are_users_with_events(shop: SyntheticShop) -> None:
    # Given the opted-out users
    active = {e["userId"] for e in shop.events if "userId" in e}

    # Then there are some, all known users, and their events are still generated
    assert shop.opted_out_user_ids
    assert set(shop.opted_out_user_ids) <= set(shop.users)
    assert set(shop.opted_out_user_ids) <= active
    assert len(shop.opted_out_user_ids) < len(shop.users) / 5


def test_some_products_are_unavailable(shop: SyntheticShop) -> None:
    # Given the catalog
    available = [p.available for p in shop.products]

    # Then a few products are unavailable and most are not
    assert 0 < available.count(False) < len(available) / 5
    assert all(p.price > 0 for p in shop.products)
    assert len({p.category for p in shop.products}) == shop.config.n_categories


def test_event_payload_matches_the_catalog(shop: SyntheticShop) -> None:
    # Given the catalog by id
    catalog = {p.id: p for p in shop.products}

    # Then events carry the product's category and price, and quantities on carts and purchases only
    for event in _interactions(shop.events):
        product = catalog[event["productId"]]
        assert (event["category"], event["price"]) == (product.category, product.price)
        assert ("quantity" in event) == (event["eventType"] in ("add_to_cart", "purchase"))


def test_complements_are_bought_together(demo_shop: SyntheticShop) -> None:
    # Given the pairs of products purchased in the same session
    pairs: Counter[frozenset[str]] = Counter()
    for events in _by_session(demo_shop.events).values():
        bought = sorted({e["productId"] for e in events if e["eventType"] == "purchase"})
        pairs.update(frozenset(p) for p in combinations(bought, 2))
    complementary = {frozenset((a, b)) for a, bs in demo_shop.complements.items() for b in bs}

    # Then a large share of co-purchases are complementary pairs, far above their share of all pairs
    n_products = len(demo_shop.products)
    chance = len(complementary) / (n_products * (n_products - 1) / 2)
    share = sum(n for pair, n in pairs.items() if pair in complementary) / sum(pairs.values())
    assert share > 0.25
    assert share > 20 * chance


def test_grocery_shoppers_buy_the_same_products_again(
    grocery_shop: SyntheticShop, demo_shop: SyntheticShop
) -> None:
    # Given purchases per (user, product)
    def repeat_share(shop: SyntheticShop) -> float:
        bought = Counter(
            (e["userId"], e["productId"])
            for e in shop.events
            if e["eventType"] == "purchase" and "userId" in e
        )
        return 1.0 - len(bought) / sum(bought.values())

    # Then in a grocery shop many purchases repeat an earlier one, unlike in a general shop
    assert repeat_share(grocery_shop) > 0.3
    assert repeat_share(grocery_shop) > 3 * repeat_share(demo_shop)


def test_trending_products_rise_at_the_end(demo_shop: SyntheticShop) -> None:
    # Given the trending products (ground truth) and the start of the trending period
    trending = set(demo_shop.trending_product_ids)
    cutoff = demo_shop.config.now - timedelta(days=demo_shop.config.trending_days)

    # When their share of interactions is compared before and during the trend
    def share(events: list[Event]) -> float:
        return sum(e["productId"] in trending for e in events) / len(events)

    interactions = _interactions(demo_shop.events)
    before = share([e for e in interactions if _parse(e["timestamp"]) < cutoff])
    during = share([e for e in interactions if _parse(e["timestamp"]) >= cutoff])

    # Then it is several times higher during the trend
    assert trending
    assert during > 3 * before


def test_collaborative_signal_beats_popularity(demo_shop: SyntheticShop) -> None:
    # Given a time split of known users' weighted interactions (first 80% -> train, rest -> test)
    events = [e for e in _interactions(demo_shop.events) if "userId" in e]
    users = {u: i for i, u in enumerate(sorted({e["userId"] for e in events}))}
    items = {p.id: i for i, p in enumerate(demo_shop.products)}
    cut = sorted(e["timestamp"] for e in events)[int(0.8 * len(events))]
    train = np.zeros((len(users), len(items)))
    test = np.zeros_like(train)
    for e in events:
        u, i = users[e["userId"]], items[e["productId"]]
        if e["timestamp"] < cut:
            train[u, i] += DEFAULT_EVENT_WEIGHTS[e["eventType"]]
        else:
            test[u, i] = 1.0
    train = np.log1p(train)
    test[train > 0] = 0.0  # only new products count as hits
    evaluated = (test.sum(axis=1) > 0) & (train.sum(axis=1) > 0)

    def ndcg_at_10(scores: np.ndarray) -> float:
        scores = np.where(train > 0, -np.inf, scores)
        top = np.argsort(-scores, axis=1)[:, :10]
        gains = np.take_along_axis(test, top, axis=1)
        discount = 1.0 / np.log2(np.arange(2, 12))
        ideal = np.array([discount[: int(min(n, 10))].sum() for n in test.sum(axis=1)])
        return float(((gains * discount).sum(axis=1) / np.maximum(ideal, 1e-12))[evaluated].mean())

    # When a small item-item model (EASE, closed form) and popularity rank the products
    gram = train.T @ train + 200.0 * np.eye(len(items))
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)
    np.fill_diagonal(weights, 0.0)
    personal = ndcg_at_10(train @ weights)
    popular = ndcg_at_10(np.tile((train > 0).sum(axis=0).astype(float), (len(users), 1)))

    # Then personalisation wins clearly: the latent tastes are real signal beyond popularity
    assert personal > 2.0 * popular
