"""What may never be served: the product on screen, the cart, unavailable and purchased products,
products outside the category filter, duplicates; and the list is always filled up to `limit`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from recs.store_layout import category_map_rows, user_pk
from tests.integration.serving.world import (
    EXPIRES,
    GENERATED_AT,
    PSEUDONYMS,
    RICH_LIST,
    RICH_USER,
    VERSION,
    World,
    bought_with,
    category_of,
    ids,
    reasons,
    sku,
)


def test_unavailable_products_are_never_served(world: World) -> None:
    # Given the catalog feed marked two of the user's products unavailable
    world.unavailable([sku(45), sku(46)])
    # When the homepage asks for 10
    status, body, _ = world.ask("recommend_homepage")
    # Then neither is served, and the list is still full
    assert status == 200
    assert not {sku(45), sku(46)} & set(ids(body))
    assert len(ids(body)) == 10
    assert ids(body)[:8] == [p for p, _, _ in RICH_LIST][2:]


def test_products_bought_in_the_live_session_are_not_recommended(world: World) -> None:
    # Given the user just bought sku_00045 (the session signal records it)
    world.user_session(RICH_USER, [(sku(45), "purchase")])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is not recommended again
    assert sku(45) not in ids(body)
    assert len(ids(body)) == 10


def test_a_purchase_then_a_view_of_the_same_product_keeps_it_filtered(world: World) -> None:
    # Given the user bought sku_00045 and then looked at it again, both posted to the ingest API
    # (event times are relative to today: ingest only keeps events inside its window)
    now = datetime.now(UTC).replace(microsecond=0)

    def event(number: int, event_type: str, minutes_ago: int) -> dict[str, object]:
        return {
            "eventId": f"00000000-0000-4000-8000-0000000001{number:02d}",
            "eventType": event_type,
            "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat(),
            "userId": RICH_USER,
            "sessionId": "sess_sticky",
            "productId": sku(45),
        }

    response = world.stack.post_events({"events": [event(1, "purchase", 10), event(2, "view", 2)]})
    assert json.loads(response["body"])["accepted"] == 2
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then the later view did not make the purchase forgotten: sku_00045 stays out, list full
    assert sku(45) not in ids(body)
    assert len(ids(body)) == 10


def test_products_in_the_users_purchase_history_are_not_recommended(world: World) -> None:
    # Given the published purchase history says the user bought sku_00046
    world.purchased(RICH_USER, [sku(46)])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is left out
    assert sku(46) not in ids(body)


def test_a_buy_again_product_is_recommended_even_though_it_was_bought(world: World) -> None:
    # Given the user's list says to buy sku_00045 again, and they did buy it before
    world.publish(lists={user_pk(PSEUDONYMS.user(RICH_USER)): [(sku(45), 1.0, "buy-again"), *RICH_LIST[1:]]})
    world.purchased(RICH_USER, [sku(45)])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is there, saying why
    assert body["products"][0] == {
        "id": sku(45),
        "score": 1.0,
        "reason": "buy-again",
        "basedOn": {"productId": sku(45), "relation": "bought"},
    }


def test_a_buy_again_product_the_session_lifts_stays_buy_again(world: World) -> None:
    # Given the user's list says to buy sku_00047 again (low in the list), and they bought it
    own = [(sku(45), 1.0, "similar-users"), (sku(47), 0.3, "buy-again"), *RICH_LIST[3:]]
    world.publish(lists={user_pk(PSEUDONYMS.user(RICH_USER)): own})
    world.purchased(RICH_USER, [sku(47)])
    # And they just viewed sku_00046, whose closest neighbour is sku_00047
    world.user_session(RICH_USER, [(sku(46), "view")])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then it is still served, as buy-again: the session's lift did not make it a filtered purchase
    served = {p["id"]: p["reason"] for p in body["products"]}
    assert served.get(sku(47)) == "buy-again"


def test_purchased_products_can_be_allowed_by_configuration(world: World) -> None:
    # Given a deployment configured with EXCLUDE_PURCHASED=false
    world.stack.function("RecommendFunction").environment["EXCLUDE_PURCHASED"] = "false"
    world.purchased(RICH_USER, [sku(46)])
    # When the homepage asks
    _, body, _ = world.ask("recommend_homepage")
    # Then the purchase does not filter the list
    assert sku(46) in ids(body)


def test_the_cart_and_the_product_on_screen_are_never_recommended(world: World) -> None:
    # Given a cart with sku_00001 and one of the products bought with it
    together = bought_with(1)[0][0]
    # When the cart asks for 20
    _, body, _ = world.ask("recommend_cart", cartProductIds=f"{sku(1)},{together}", limit="20")
    # Then neither cart item is served
    assert not {sku(1), together} & set(ids(body))
    # and on sku_00001's product page sku_00001 never appears
    _, page, _ = world.ask("recommend_product_page", limit="50")
    assert sku(1) not in ids(page)


def test_the_category_filter_keeps_only_that_category(world: World) -> None:
    # Given a user whose own list is all cat_b
    # When the homepage asks for cat_a only
    status, body, _ = world.ask("recommend_category_filter", category="cat_a", limit="10")
    # Then every product is cat_a, from cat_a's own popular list
    assert status == 200
    assert len(ids(body)) == 10
    assert {category_of(int(p[4:])) for p in ids(body)} == {"cat_a"}
    assert body["source"] == "category-popular"


def test_lists_are_filled_across_sources_without_duplicates(world: World) -> None:
    # Given popular (40) and trending (40) overlap on 20 products
    # When an anonymous visitor asks for 60
    status, body, _ = world.ask("recommend_anonymous", limit="60")
    # Then 60 distinct products come, popular first, then trending's new ones
    assert status == 200
    assert len(ids(body)) == len(set(ids(body))) == 60
    assert reasons(body) == ["popular"] * 40 + ["trending"] * 20


def test_a_list_is_short_only_when_the_catalog_has_no_more_eligible_products(world: World) -> None:
    # Given every source together knows 60 products
    # When an anonymous visitor asks for 100
    status, body, _ = world.ask("recommend_anonymous", limit="100")
    # Then all 60 are served (and nothing is invented)
    assert status == 200
    assert sorted(ids(body)) == [sku(n) for n in range(60)]
    assert json.dumps(body).count('"id"') == 60


def test_excluded_products_are_never_served_and_the_list_stays_full(world: World) -> None:
    # Given the rich user's homepage list, whose first three products another widget already shows
    _, before, _ = world.ask("recommend_homepage")
    shown_elsewhere = ids(before)[:3]
    # When the homepage asks again, excluding them
    status, body, _ = world.ask("recommend_homepage", exclude=",".join(shown_elsewhere))
    # Then none of them is served, the list is still full, and the rest keep their order
    assert status == 200
    assert not set(shown_elsewhere) & set(ids(body))
    assert len(ids(body)) == 10
    assert ids(body)[:7] == ids(before)[3:]


def test_a_bad_exclude_parameter_is_a_400_naming_it(world: World) -> None:
    # When exclude carries an e-mail address, or more than 100 products
    bad_id, _, _ = world.ask("recommend_homepage", exclude="sku_1,someone@example.com")
    too_many, body, _ = world.ask("recommend_homepage", exclude=",".join(sku(n) for n in range(101)))
    # Then both are refused, naming the parameter
    assert bad_id == 400
    assert too_many == 400
    assert [e["field"] for e in body["errors"]] == ["exclude"]


def test_a_large_catalogs_map_in_several_rows_serves_the_category_filter(world: World) -> None:
    # Given the version's category map for a catalog of 40,000 products (the world's 60 and
    # 39,940 more), as training now writes it: several rows, each under DynamoDB's item limit
    # (ids that look like real SKUs compress far less than a counter would)
    more = {"sku_" + hashlib.sha1(str(n).encode()).hexdigest()[:16]: "cat_z" for n in range(39_940)}
    big = {sku(n): category_of(n) for n in range(60)} | more
    rows = category_map_rows(big, VERSION, GENERATED_AT, EXPIRES)
    assert len(rows) > 1
    world.models.put_many(rows)  # moto refuses any item over 400 KB, as DynamoDB does
    # When the homepage asks for cat_a only (nothing read yet: no memory or cache copy)
    status, body, _ = world.ask("recommend_category_filter", category="cat_a", limit="10")
    # Then the map was read whole from its rows: every product is cat_a
    assert status == 200
    assert len(ids(body)) == 10
    assert {category_of(int(p[4:])) for p in ids(body)} == {"cat_a"}


def test_several_categories_keep_only_theirs_and_merge_their_popular_lists(world: World) -> None:
    # Given a user whose own list is all cat_b
    # When the homepage asks for cat_a or cat_b, and for cat_a alone through categories
    status, both, _ = world.ask(
        "recommend_category_filter", category=None, categories="cat_a,cat_b", limit="10"
    )
    _, only_a, _ = world.ask("recommend_category_filter", category=None, categories="cat_a", limit="10")
    # Then each list is full and holds only those categories
    assert status == 200
    assert len(ids(both)) == 10
    assert {category_of(int(p[4:])) for p in ids(both)} <= {"cat_a", "cat_b"}
    assert len(ids(only_a)) == 10
    assert {category_of(int(p[4:])) for p in ids(only_a)} == {"cat_a"}


def test_categories_with_category_or_unknown_ones_are_refused_naming_the_parameter(world: World) -> None:
    # When both parameters are sent, or (by a visitor without a list of their own) only
    # categories no product belongs to
    both, body, _ = world.ask("recommend_category_filter", category="cat_a", categories="cat_b")
    ask = "recommend_category_filter"
    unknown, missing, _ = world.ask(ask, userId=None, category=None, categories="cat_x,cat_y")
    # Then a 400 names categories, and a 404 says none of them is on sale
    assert both == 400
    assert [e["field"] for e in body["errors"]] == ["categories"]
    assert unknown == 404
    assert [e["field"] for e in missing["errors"]] == ["categories"]
