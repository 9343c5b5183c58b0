"""Each context and each kind of visitor, through the handler, on moto + a real redis-server."""

from __future__ import annotations

from recs.serving.attribution import RecommendationId
from tests.integration.serving.world import (
    RERANK_USER,
    RICH_LIST,
    RICH_USER,
    SPARSE_USER,
    VERSION,
    World,
    bought_with,
    category_of,
    ids,
    reasons,
    similar_to,
    sku,
)


def test_a_known_user_gets_their_precomputed_list_on_the_homepage(world: World) -> None:
    # Given a user with a published top-K and no live session
    # When the homepage asks for 10
    status, body, _ = world.ask("recommend_homepage")
    # Then the list is theirs, in order, with its reason, version and attribution id
    assert status == 200
    assert ids(body) == [p for p, _, _ in RICH_LIST]
    assert set(reasons(body)) == {"similar-users"}
    assert body["source"] == "user"
    assert body["modelVersion"] == VERSION
    assert body["generatedAt"].endswith("Z")
    assert RecommendationId.parse(body["recommendationId"]) is not None
    scores = [p["score"] for p in body["products"]]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)


def test_the_live_session_adjusts_a_known_users_homepage(world: World) -> None:
    # Given the user just put sku_00003 in their cart and viewed sku_00005
    world.user_session(RICH_USER, [(sku(3), "add_to_cart"), (sku(5), "view")])
    # When the homepage asks for 10
    status, body, _ = world.ask("recommend_homepage")
    # Then neighbours of those products join their list, marked as coming from the session
    assert status == 200
    session_items = [p["id"] for p in body["products"] if p["reason"] == "session"]
    neighbours = {p for p, _, _ in similar_to(3) + similar_to(5)}
    assert session_items
    assert set(session_items) <= neighbours
    assert ids(body)[0] == RICH_LIST[0][0]  # their strongest preference still leads
    # and what they just looked at is not recommended back to them
    assert not {sku(3), sku(5)} & set(ids(body))


def test_an_anonymous_visitor_gets_neighbours_of_their_recent_products(world: World) -> None:
    # Given an anonymous visitor who viewed sku_00033
    world.anon_session("anon_sample_1", [(sku(33), "view")])
    # When the homepage asks for 5
    status, body, _ = world.ask("recommend_anonymous")
    # Then they get sku_00033's neighbours, as session recommendations
    assert status == 200
    assert ids(body) == [p for p, _, _ in similar_to(33)][:5]
    assert set(reasons(body)) == {"session"}
    assert body["source"] == "session"


def test_an_anonymous_visitor_falls_back_to_their_category_then_popular(world: World) -> None:
    # Given an anonymous visitor who viewed sku_00033 (cat_b, 8 neighbours)
    world.anon_session("anon_sample_1", [(sku(33), "view")])
    # When the homepage asks for 12
    status, body, _ = world.ask("recommend_anonymous", limit="12")
    # Then the 8 neighbours come first, then cat_b's popular products
    assert status == 200
    assert reasons(body)[:8] == ["session"] * 8
    assert reasons(body)[8:] == ["category-popular"] * 4
    assert all(category_of(int(p[4:])) == "cat_b" for p in ids(body)[8:])


def test_an_anonymous_visitor_without_history_gets_popular_products(world: World) -> None:
    # Given an anonymous id never seen before
    # When the homepage asks for 5
    status, body, _ = world.ask("recommend_anonymous")
    # Then the most popular products answer
    assert status == 200
    assert ids(body) == [sku(n) for n in range(5)]
    assert body["source"] == "popular"


def test_a_visitor_without_any_id_gets_popular_products(world: World) -> None:
    # Given a request with neither userId nor anonId
    status, body, _ = world.ask("recommend_no_identity")
    # Then it is served, non-personalized
    assert status == 200
    assert ids(body) == [sku(n) for n in range(5)]
    assert "variant" not in body


def test_a_user_with_sparse_history_is_blended_with_their_category(world: World) -> None:
    # Given a user whose list has only two products (both cat_b)
    # When the homepage asks for 10
    status, body, _ = world.ask("recommend_homepage", userId=SPARSE_USER)
    # Then their two come first, and cat_b's popular products fill the rest
    assert status == 200
    assert ids(body)[:2] == [sku(41), sku(42)]
    assert reasons(body)[2:] == ["category-popular"] * 8
    assert all(category_of(int(p[4:])) == "cat_b" for p in ids(body))


def test_the_product_page_shows_similar_items_then_bought_together(world: World) -> None:
    # Given an anonymous visitor on sku_00001's page
    # When 10 are asked
    status, body, _ = world.ask("recommend_product_page", userId=None, anonId="anon_x", limit="10")
    # Then the 8 similar items come first, then what is bought with sku_00001
    assert status == 200
    assert ids(body)[:8] == [p for p, _, _ in similar_to(1)]
    assert ids(body)[8:] == [p for p, _, _ in bought_with(1)][:2]
    assert body["source"] == "similar"
    assert sku(1) not in ids(body)


def test_the_product_page_is_re_ranked_for_a_known_user(world: World) -> None:
    # Given a user whose own list loves sku_00009, the least similar item to sku_00001
    # When they and an anonymous visitor open sku_00001's page
    _, anonymous, _ = world.ask("recommend_product_page", userId=None, anonId="anon_x", limit="8")
    _, known, _ = world.ask("recommend_product_page", userId=RERANK_USER, limit="8")
    # Then the same similar items are shown, but sku_00009 moves up for the user
    assert set(ids(known)) == set(ids(anonymous))
    assert ids(anonymous).index(sku(9)) == 7
    assert ids(known).index(sku(9)) < 7
    assert set(reasons(known)) == {"similar-items"}


def test_the_current_product_id_alias_is_the_product_on_screen(world: World) -> None:
    # Given the requirements' parameter name currentProductId
    status, body, _ = world.ask("recommend_product_page_current_product_id")
    # Then it is treated exactly like productId
    assert status == 200
    assert ids(body) == [p for p, _, _ in similar_to(1)][:5]


def test_the_cart_shows_bought_together_then_similar_items(world: World) -> None:
    # Given a cart holding sku_00001 and sku_00002
    # When 10 are asked
    status, body, _ = world.ask("recommend_cart")
    # Then what is bought with either comes first, then items similar to them, never the cart's
    assert status == 200
    together = {p for p, _, _ in bought_with(1) + bought_with(2)}
    assert set(ids(body)[:8]) == together
    assert set(reasons(body)[8:]) == {"similar-items"}
    assert not {sku(1), sku(2)} & set(ids(body))
    assert body["source"] == "bought-together"


def test_an_unknown_context_is_served_as_the_homepage(world: World) -> None:
    # Given context=search-results
    status, body, _ = world.ask("recommend_unknown_context")
    # Then the user gets their homepage list
    assert status == 200
    assert ids(body) == [p for p, _, _ in RICH_LIST][:5]
    assert RecommendationId.parse(body["recommendationId"]).context == "homepage"  # type: ignore[union-attr]


def test_a_returning_request_is_served_from_the_cache(world: World) -> None:
    # Given the same request twice
    _, first, _ = world.ask("recommend_homepage")
    _, second, _ = world.ask("recommend_homepage")
    # Then the answers agree except for the per-impression id
    assert ids(first) == ids(second)
    assert first["recommendationId"] != second["recommendationId"]


def test_the_versions_own_session_constants_decide_the_merge(world: World) -> None:
    # Given an anonymous visitor who viewed sku_00033, then sku_00005 (the newest)
    world.anon_session("anon_sample_1", [(sku(5), "view"), (sku(33), "view")])
    newest_only = {p for p, _, _ in similar_to(5)}
    # When the version serves with the configured default (several seeds)
    _, by_default, _ = world.ask("recommend_anonymous", limit="12")
    # Then neighbours of both recent products are served
    assert set(ids(by_default)) - newest_only
    # When a version whose training chose one seed flips in (a fresh container reads the pointer)
    world.flip(session=(1, 1.0))
    world.service()._repo._control = None
    _, learned, _ = world.ask("recommend_anonymous", limit="12")
    # Then only the newest product's neighbours come from the session
    session_items = [p["id"] for p in learned["products"] if p["reason"] == "session"]
    assert session_items
    assert set(session_items) <= newest_only
