"""Explanations through the recommend handler: each product whose source has an anchor says what
it is based on (`basedOn`: the product on screen, a cart item, the visitor's own recent product,
or for buy-again the product itself); the others say nothing, and opted-out users get no
personal anchor. On moto + a real redis-server."""

from __future__ import annotations

from typing import Any

from recs.store_layout import preference_key, user_pk
from tests.integration.rules.support import put_rule
from tests.integration.serving.world import (
    PSEUDONYMS,
    RICH_LIST,
    RICH_USER,
    World,
    bought_with,
    similar_to,
    sku,
)


def based_on(body: Any) -> dict[str, dict[str, str] | None]:
    return {p["id"]: p.get("basedOn") for p in body["products"]}


def of_reason(body: Any, reason: str) -> list[dict[str, Any]]:
    return [p for p in body["products"] if p["reason"] == reason]


def test_similar_and_bought_together_on_a_product_page_are_based_on_the_product_on_screen(
    world: World,
) -> None:
    # Given an anonymous visitor on sku_00001's page
    # When 10 are asked (8 similar items, then 2 bought with it)
    status, body, _ = world.ask("recommend_product_page", userId=None, anonId="anon_x", limit="10")
    # Then every one of them is based on sku_00001, viewed
    assert status == 200
    assert {p["reason"] for p in body["products"]} == {"similar-items", "bought-together"}
    assert set(map(str, based_on(body).values())) == {str({"productId": sku(1), "relation": "viewed"})}


def test_cart_items_are_based_on_the_cart_item_whose_list_they_came_from(world: World) -> None:
    # Given a cart holding sku_00001 and sku_00002 (their bought-together lists share nothing;
    # sku_00003..sku_00009 are closer to sku_00002 than to sku_00001)
    # When 16 are asked
    status, body, _ = world.ask("recommend_cart", limit="16")
    # Then what is bought with each cart item is based on that item, in the cart
    assert status == 200
    anchors = based_on(body)
    for cart_item, n in ((sku(1), 1), (sku(2), 2)):
        for product, _, _ in bought_with(n):
            assert anchors[product] == {"productId": cart_item, "relation": "in-cart"}
    # And the similar items, on the cart item that contributed most to each
    similar = of_reason(body, "similar-items")
    assert similar
    for item in similar:
        assert item["basedOn"] == {"productId": sku(2), "relation": "in-cart"}


def test_session_items_are_based_on_the_visitor_s_own_recent_product(world: World) -> None:
    # Given an anonymous visitor who viewed sku_00033 and, before it, bought sku_00003
    world.anon_session("anon_sample_1", [(sku(33), "view"), (sku(3), "purchase")])
    # When the homepage asks for 16
    status, body, _ = world.ask("recommend_anonymous", limit="16")
    # Then each session item is based on the recent product whose neighbours it is
    assert status == 200
    session = of_reason(body, "session")
    assert session
    near_33 = {p for p, _, _ in similar_to(33)}
    near_3 = {p for p, _, _ in similar_to(3)}
    for item in session:
        if item["id"] in near_33:
            assert item["basedOn"] == {"productId": sku(33), "relation": "viewed"}
        else:
            assert item["id"] in near_3
            assert item["basedOn"] == {"productId": sku(3), "relation": "bought"}
    assert {item["basedOn"]["productId"] for item in session} == {sku(33), sku(3)}
    # And the shop's lists filling the rest say nothing
    assert all("basedOn" not in p for p in body["products"] if p["reason"] != "session")


def test_a_known_users_list_anchors_only_what_their_session_lifted(world: World) -> None:
    # Given the user just viewed sku_00005
    world.user_session(RICH_USER, [(sku(5), "view")])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then the session's products are based on sku_00005; their own list's on nothing
    session = of_reason(body, "session")
    assert session
    assert all(p["basedOn"] == {"productId": sku(5), "relation": "viewed"} for p in session)
    assert all("basedOn" not in p for p in of_reason(body, "similar-users"))


def test_a_buy_again_product_is_based_on_itself_bought(world: World) -> None:
    # Given the user's list says to buy sku_00045 again, and they bought it
    world.publish(lists={user_pk(PSEUDONYMS.user(RICH_USER)): [(sku(45), 1.0, "buy-again"), *RICH_LIST[1:]]})
    world.purchased(RICH_USER, [sku(45)])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is based on itself, bought
    assert body["products"][0] == {
        "id": sku(45),
        "score": 1.0,
        "reason": "buy-again",
        "basedOn": {"productId": sku(45), "relation": "bought"},
    }


def test_an_opted_out_user_gets_no_personal_anchor(world: World) -> None:
    # Given a user with a live session and a buy-again list, who opted out
    world.publish(lists={user_pk(PSEUDONYMS.user(RICH_USER)): [(sku(45), 1.0, "buy-again"), *RICH_LIST[1:]]})
    world.user_session(RICH_USER, [(sku(5), "view")])
    pk, sk = preference_key(PSEUDONYMS.user(RICH_USER))
    world.state.put({"pk": pk, "sk": sk, "recommendations": False})
    # When the homepage and sku_00001's page ask
    _, homepage, _ = world.ask("recommend_homepage")
    _, product_page, _ = world.ask("recommend_product_page", limit="8")
    # Then the homepage anchors nothing (the shop's lists only)
    assert homepage["source"] == "popular"
    assert all("basedOn" not in p for p in homepage["products"])
    # And the product page is still based on the product on screen (not personal data)
    assert all(p["basedOn"] == {"productId": sku(1), "relation": "viewed"} for p in product_page["products"])


def test_a_product_a_rule_moved_is_explained_by_the_rule_alone(world: World) -> None:
    # Given a boost of sku_00009, the least similar item to sku_00001
    put_rule(world.stack, "lift-9", kind="boost", productId=sku(9), factor=100)
    # When sku_00001's page asks
    _, body, _ = world.ask("recommend_product_page", userId=None, anonId="anon_x", limit="8")
    # Then the boosted product names its rule and no anchor; the others keep theirs
    boosted = next(p for p in body["products"] if p["id"] == sku(9))
    assert boosted["reason"] == "rule"
    assert "basedOn" not in boosted
    others = [p for p in body["products"] if p["id"] != sku(9)]
    assert all(p["basedOn"] == {"productId": sku(1), "relation": "viewed"} for p in others)
