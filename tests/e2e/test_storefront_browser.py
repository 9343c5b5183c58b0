"""The storefront demo in Debian's headless Chromium: pages, tracker, API and lake together.

`make chromium` (a prerequisite of `make test`) installs the browser; Playwright
drives it through `executable_path`, with no browser download of its own.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright

from recs_tools.checkout import repo_root
from recs_tools.local.demo import DEMO_PIN_POSITION, DEMO_RULE_ID, DemoReport, run_demo
from recs_tools.local.http import LocalApiServer
from recs_tools.local.stack import LocalStack
from recs_tools.local.storefront import STOREFRONT_PREFIX, storefront_mounts, write_shop_data
from tests.integration.ingest.lake import lake_records

CHROMIUM_SETUP = "run `make chromium` as root (make test runs it) to install Debian's chromium"


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(f"Chromium not found on PATH: {CHROMIUM_SETUP}")
    return found


@dataclass
class Shop:
    stack: LocalStack
    server: LocalApiServer
    report: DemoReport
    shoppers: list[str]

    @property
    def url(self) -> str:
        return self.server.url + STOREFRONT_PREFIX


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """The demo on the test shop, its API serving the storefront, the tracker and the shop data."""
    data_dir = tmp_path_factory.mktemp("shop-data")
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        server = LocalApiServer(stack, port=0, static=storefront_mounts(data_dir)).start()
        report = run_demo(stack, server.url, preset="test", seed=11, log=lambda _: None)
        assert report.execution["status"] == "SUCCEEDED"
        shop_json = json.loads(write_shop_data(data_dir, report.shop).read_text())
        yield Shop(stack, server, report, shop_json["users"])
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile per test: new anonId, empty cart and queue."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(20_000)
    # The page's Date follows the tests' pinned clock (the tracker stamps events with it)
    context.clock.install(time=datetime.now(UTC))
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def wait_for_lake(stack: LocalStack, found: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """The lake's records once `found` holds: beacons land after the page that sent them is gone."""
    deadline = time.monotonic() + 20
    while True:
        records = lake_records(stack)
        if found(records) or time.monotonic() > deadline:
            return records
        time.sleep(0.1)


def flush(page: Page) -> None:
    page.evaluate("() => window.storefront.tracker.flush()")
    page.wait_for_function("() => window.storefront.tracker.pending() === 0")


def test_a_recommended_product_clicked_and_added_to_the_cart_reaches_the_lake_with_its_recommendation_id(
    shop: Shop, page: Page
) -> None:
    # Given a signed-in shopper on the homepage
    page.goto(shop.url)
    page.select_option("#identity", shop.shoppers[0])
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#recommended .meta")).to_contain_text("source user")
    expect(page.locator("#cart-count")).to_have_text("0")
    first = page.locator("#recommended .card").first
    product_id = first.get_attribute("data-product-id")
    recommendation_id = first.get_attribute("data-recommendation-id")
    assert product_id
    assert recommendation_id
    assert recommendation_id.startswith("r1:homepage:")
    expect(first.locator(".reason")).not_to_be_empty()

    # When they click it, add it to the cart on its product page and open the cart
    first.locator("a").click()
    page.wait_for_url(f"**/product.html?id={product_id}")
    expect(page.locator("#similar")).to_have_attribute("data-loaded", "true")
    similar = page.locator("#similar .card")
    expect(similar.first).to_have_attribute("data-reason", "similar-items")
    # each similar item says it is based on the product on screen
    expect(similar.first).to_have_attribute("data-based-on", product_id)
    expect(similar.first.locator(".reason")).to_contain_text(f"Because you viewed {product_id}")
    page.click("#add-to-cart")
    expect(page.locator("#cart-count")).to_have_text("1")
    page.click("#cart-widget")
    page.wait_for_url("**/cart.html")
    expect(page.locator(f'#cart-lines li[data-product-id="{product_id}"]')).to_have_count(1)
    expect(page.locator("#complete-cart")).to_have_attribute("data-loaded", "true")
    expect(page.locator(f'#complete-cart .card[data-product-id="{product_id}"]')).to_have_count(0)
    flush(page)

    # Then the click (by beacon as the homepage was left, or by the batch timer) and the add-to-cart
    # reach the lake carrying the list's recommendationId, with the shopper's id pseudonymized
    def attributed(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {
            r["eventType"]: r
            for r in records
            if r.get("recommendationId") == recommendation_id and r.get("productId") == product_id
        }

    records = wait_for_lake(shop.stack, lambda rs: {"click", "add_to_cart"} <= set(attributed(rs)))
    events = attributed(records)
    assert {"click", "add_to_cart"} <= set(events)
    assert events["click"]["context"] == "homepage"
    assert events["add_to_cart"]["quantity"] == 1
    raw_user = shop.shoppers[0]
    assert events["click"]["userId"]
    assert events["click"]["userId"] != raw_user
    assert raw_user not in json.dumps(records)
    # And the product page's view is there too, without attribution (only the click is credited)
    assert any(r["eventType"] == "view" and r.get("productId") == product_id for r in records)


def test_the_homepage_shows_the_demo_s_pinned_product_naming_its_rule(shop: Shop, page: Page) -> None:
    # Given the demo pinned a product on the homepage (a merchandising rule), and a shopper
    page.goto(shop.url)
    page.select_option("#identity", shop.shoppers[0])
    # When their homepage shelf has loaded
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    # Then the pinned product is at the rule's position, its reason naming the rule
    pinned = page.locator("#recommended .card").nth(DEMO_PIN_POSITION - 1)
    expect(pinned).to_have_attribute("data-product-id", str(shop.report.pinned))
    expect(pinned).to_have_attribute("data-reason", "rule")
    expect(pinned).to_have_attribute("data-rule-id", DEMO_RULE_ID)
    expect(pinned.locator(".reason")).to_contain_text("Featured by the shop")


def test_a_product_pages_second_shelf_never_repeats_the_first(shop: Shop, page: Page) -> None:
    # Given a signed-in shopper on the product page of the first product they are recommended
    page.goto(shop.url)
    page.select_option("#identity", shop.shoppers[0])
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    page.locator("#recommended .card a").first.click()
    page.wait_for_url("**/product.html?id=*")
    # When both shelves have loaded ("More for you" asks with exclude= what "Similar items" shows)
    expect(page.locator("#similar")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#more")).to_have_attribute("data-loaded", "true")
    similar = set(page.locator("#similar .card").evaluate_all("cards => cards.map(c => c.dataset.productId)"))
    more = page.locator("#more .card").evaluate_all("cards => cards.map(c => c.dataset.productId)")
    on_screen = page.url.split("id=", 1)[1]
    # Then the second shelf is full and shares no product with the first, nor the one on screen
    assert similar
    assert len(more) == 6
    assert not similar & set(more)
    assert on_screen not in more


def test_switching_to_an_anonymous_visitor_serves_non_personal_lists_then_their_session(
    shop: Shop, page: Page
) -> None:
    # Given a signed-in shopper's homepage
    page.goto(shop.url)
    page.select_option("#identity", shop.shoppers[0])
    expect(page.locator("#recommended .meta")).to_contain_text("source user")
    # When they switch to the anonymous visitor
    page.select_option("#identity", "")
    # Then the homepage is no longer the personal list
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#recommended .meta")).to_contain_text(
        re.compile(r"source (session|category-popular|popular|trending)")
    )
    # When the visitor views a product and comes back
    viewed = page.locator("#browse .card").first.get_attribute("data-product-id")
    page.locator("#browse .card a").first.click()
    page.wait_for_url("**/product.html?id=*")
    expect(page.locator("#similar")).to_have_attribute("data-loaded", "true")
    flush(page)
    page.goto(shop.url)
    # Then their homepage follows what they just viewed
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#recommended .meta")).to_contain_text("source session")
    session_card = page.locator('#recommended .card[data-reason="session"]').first
    expect(session_card).to_be_visible()
    # And names the product they viewed
    expect(session_card).to_have_attribute("data-based-on", str(viewed))
    expect(session_card.locator(".reason")).to_contain_text(f"Because you viewed {viewed}")


def test_an_anonymous_visitor_turns_personalization_off_exports_and_erases_their_browsing(
    shop: Shop, page: Page
) -> None:
    # Given an anonymous visitor whose homepage follows what they viewed (their session)
    page.goto(shop.url)
    page.locator("#browse .card a").first.click()
    page.wait_for_url("**/product.html?id=*")
    expect(page.locator("#similar")).to_have_attribute("data-loaded", "true")
    flush(page)
    page.goto(shop.url)
    expect(page.locator("#recommended .meta")).to_contain_text("source session")
    expect(page.locator("#personalize")).to_be_checked()
    # When they untick "Personalize" (the tracker opts their signed anonymous id out)
    page.locator("#personalize").uncheck()
    page.wait_for_load_state()
    # Then after the reload the box stays unticked and the homepage is no longer from their session
    expect(page.locator("#personalize")).not_to_be_checked()
    expect(page.locator("#personalize")).to_be_enabled()
    expect(page.locator("#recommended")).to_have_attribute("data-loaded", "true")
    expect(page.locator("#recommended .meta")).to_contain_text(
        re.compile(r"source (category-popular|popular|trending)")
    )
    # When they ask for a copy of their data
    page.locator("#export").click()
    # Then the export is ready, with a download link of the export bucket
    expect(page.locator("#privacy-status")).to_have_text("export ready")
    expect(page.locator("#export-link")).to_be_visible()
    expect(page.locator("#export-link")).to_have_attribute("href", re.compile(r"X-Amz-Signature="))
    # When they erase their browsing
    page.locator("#erase").click()
    # Then the API accepted it (a receipt, pending until the next training run)
    expect(page.locator("#privacy-status")).to_have_text("erasure pending")


def test_events_still_queued_when_the_page_is_left_go_by_beacon_and_reach_the_lake(
    shop: Shop, page: Page
) -> None:
    # Given a tracker whose batch timer would not fire for ten minutes holds a queued event
    page.goto(shop.url)
    event_id = page.evaluate(
        """() => {
            window.slow = RecsTracker.create({flushIntervalMs: 600000, storagePrefix: "beacon-test:"});
            return slow.view("sku_00003", {context: "beacon-test"});
        }"""
    )
    # When the shopper leaves the page
    page.goto(shop.url + "cart.html")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    # Then the browser's beacon delivered it to the lake, and the next page finds nothing to resend
    records = wait_for_lake(shop.stack, lambda rs: any(r["eventId"] == event_id for r in rs))
    assert [r["context"] for r in records if r["eventId"] == event_id] == ["beacon-test"]
    assert page.evaluate("() => localStorage.getItem('beacon-test:queue')") == "[]"


STUB_ORIGIN = "http://stub.test"


def stub_page(page: Page, answers: list[int]) -> list[list[dict[str, Any]]]:
    """A blank page with the tracker; /api/events answers `answers` in turn (then 202).
    Returns the batches the tracker sent, in order."""
    tracker = (repo_root() / "sdk" / "recs-tracker.js").read_text()
    sent: list[list[dict[str, Any]]] = []

    def events_api(route: Route, request: Request) -> None:
        sent.append(json.loads(request.post_data or "{}")["events"])
        status = answers.pop(0) if answers else 202
        headers = {"retry-after": "0"} if status == 503 else {}
        route.fulfill(status=status, headers=headers, body="{}", content_type="application/json")

    page.route(f"{STUB_ORIGIN}/", lambda route: route.fulfill(body="<html><body></body></html>"))
    page.route(f"{STUB_ORIGIN}/recs-tracker.js", lambda route: route.fulfill(body=tracker))
    page.route(f"{STUB_ORIGIN}/api/events", events_api)
    page.goto(f"{STUB_ORIGIN}/")
    page.add_script_tag(url=f"{STUB_ORIGIN}/recs-tracker.js")
    page.evaluate("() => { window.t = RecsTracker.create({flushIntervalMs: 50}); }")
    return sent


def test_the_tracker_batches_events_and_retries_a_failed_send_with_the_same_event_ids(page: Page) -> None:
    # Given the events API answers 503 once, then accepts
    sent = stub_page(page, answers=[503])
    # When three events are tracked at once
    page.evaluate(
        """() => {
            t.view("sku_1", {context: "homepage"});
            t.view("sku_2");
            t.addToCart("sku_2", {quantity: 1});
        }"""
    )
    page.wait_for_function("() => t.pending() === 0")
    # Then they left as one batch, and the retry carried the very same eventIds
    assert len(sent) == 2
    assert [e["eventId"] for e in sent[0]] == [e["eventId"] for e in sent[1]]
    assert [e["eventType"] for e in sent[0]] == ["view", "view", "add_to_cart"]
    # And every event carries the browser's ids, the same across the batch
    assert len({(e["anonId"], e["sessionId"]) for e in sent[0]}) == 1


def test_the_tracker_sends_only_schema_fields_and_refuses_an_email_as_user_id(page: Page) -> None:
    # Given the tracker on a page that passes personal data it should not
    sent = stub_page(page, answers=[])
    page.evaluate(
        """() => t.track("view", {productId: "sku_1", email: "jane@example.com", name: "Jane", price: 3})"""
    )
    page.wait_for_function("() => t.pending() === 0")
    # Then only the event schema's fields left the page
    schema_fields = {"eventId", "eventType", "timestamp", "anonId", "sessionId", "productId", "price"}
    assert set(sent[0][0]) == schema_fields
    # And an e-mail address is refused as a user id
    error = page.evaluate(
        "() => { try { t.setUser('jane@example.com'); return ''; } catch (e) { return e.message; } }"
    )
    assert "never an e-mail" in error
