"""The demo's simulated shoppers: seeded, attributed to served lists, and drawn to what they like."""

from __future__ import annotations

from typing import Any

from recs_tools.local.demo_traffic import simulate_shoppers
from recs_tools.synthetic import build_config, generate_shop

SHOP = generate_shop(build_config("test", seed=3))
CATEGORY = {p.id: p.category for p in SHOP.products}


class FakeApi:
    """Answers recommendations with products in (or out of) the shopper's favourite categories."""

    def __init__(self, liked: bool) -> None:
        self.liked = liked
        self.served = 0
        self.posted: list[dict[str, Any]] = []

    def __call__(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST":
            self.posted += body["events"]
            return 202, {"accepted": len(body["events"])}
        user = path.split("userId=")[1].split("&")[0]
        favourites = set(SHOP.favourite_categories[user])
        products = [p for p in SHOP.products if (CATEGORY[p.id] in favourites) == self.liked][:4]
        self.served += 1
        rid = f"r1:homepage:user:hp:model:{self.served:016x}"
        return 200, {"recommendationId": rid, "products": [{"id": p.id} for p in products]}


def test_shoppers_click_lists_of_their_favourite_categories_more_often() -> None:
    # Given an API showing only liked products, and one showing only other products
    liked, other = FakeApi(liked=True), FakeApi(liked=False)
    # When the same seeded shoppers visit each
    with_liked = simulate_shoppers(liked, SHOP, visits=400, seed=1)
    with_other = simulate_shoppers(other, SHOP, visits=400, seed=1)
    clicks_liked = sum(e["eventType"] == "click" for e in with_liked.events)
    clicks_other = sum(e["eventType"] == "click" for e in with_other.events)
    # Then every visit is an impression, and liked lists are clicked several times more often
    assert len(with_liked.served_ids) == len(with_other.served_ids) == 400
    assert clicks_liked > 3 * clicks_other > 0


def test_every_event_is_posted_and_attributed_to_a_served_list_in_funnel_order() -> None:
    # Given the liked API
    api = FakeApi(liked=True)
    # When shoppers visit it twice with the same seed
    traffic = simulate_shoppers(api, SHOP, visits=200, seed=5)
    again = simulate_shoppers(FakeApi(liked=True), SHOP, visits=200, seed=5)
    # Then the posted events are the returned ones, each carries a served id, a purchase always
    # follows a cart on the same list, and the same seed gives the same events
    assert api.posted == traffic.events
    assert {e["recommendationId"] for e in traffic.events} <= set(traffic.served_ids)
    by_list: dict[str, list[str]] = {}
    for event in traffic.events:
        by_list.setdefault(event["recommendationId"], []).append(event["eventType"])
    assert all(
        chain in (["click"], ["click", "add_to_cart"], ["click", "add_to_cart", "purchase"])
        for chain in by_list.values()
    )
    assert [e["eventId"] for e in again.events] == [e["eventId"] for e in traffic.events]
