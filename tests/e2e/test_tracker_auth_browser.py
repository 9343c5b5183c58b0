"""The tracker in Chromium against an API that checks callers: with `getToken`, a signed-in
shopper's events and recommendations carry their bearer token and are taken; without it, the
API refuses events about the user (401) and the tracker says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page

from recs.pseudonyms import Pseudonymizer
from recs_tools.local.auth import LocalIssuer
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from tests.e2e.test_storefront_browser import wait_for_lake
from tests.e2e.tracker_page import chromium, page_at, tracker_server
from tests.integration.ingest.lake import lake_records
from tests.integration.serving.world import RICH_USER, World


@dataclass
class Secured:
    issuer: LocalIssuer
    stack: LocalStack
    url: str


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A stack trusting a local issuer, with published lists, serving a bare page and the tracker."""
    with (
        LocalIssuer() as issuer,
        LocalStack(parameter_overrides={"LogLevel": "WARNING", **issuer.stack_parameters()}) as stack,
    ):
        World(stack).publish_everything()
        with tracker_server(stack, tmp_path_factory.mktemp("tracker-page")) as url:
            yield Secured(issuer, stack, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, secured: Secured) -> Iterator[Page]:
    with page_at(browser, secured.url) as opened:
        yield opened


def _user_purchases(secured: Secured, product: str) -> list[str]:
    pseudonym = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode()).user(RICH_USER)
    records = wait_for_lake(
        secured.stack,
        lambda found: any(r.get("productId") == product and r.get("userId") == pseudonym for r in found),
    )
    return [
        str(r["eventType"]) for r in records if r.get("productId") == product and r.get("userId") == pseudonym
    ]


def test_with_get_token_a_signed_in_shoppers_events_and_list_carry_their_token(
    page: Page, secured: Secured
) -> None:
    # Given a tracker for the rich user whose getToken returns their token (as a Promise)
    token = secured.issuer.token(RICH_USER)
    page.evaluate(
        """([user, token]) => {
            window.recs = RecsTracker.create({
                userId: user, storagePrefix: "with-token:",
                getToken: () => Promise.resolve(token)
            });
        }""",
        [RICH_USER, token],
    )
    # When they purchase a product and the queue is flushed, and their list is asked for
    page.evaluate("() => { window.recs.purchase('sku_auth_1'); return window.recs.flush(); }")
    page.wait_for_function("() => window.recs.pending() === 0")
    answer = page.evaluate("() => window.recs.recommendations({ context: 'homepage', limit: 5 })")
    # Then the purchase reached the lake under the user's pseudonym, and their personal list came back
    assert _user_purchases(secured, "sku_auth_1") == ["purchase"]
    assert answer["source"] == "user"


def test_without_get_token_events_about_the_user_are_refused_and_reported(
    page: Page, secured: Secured
) -> None:
    # Given a tracker for the rich user with no getToken, against an API that checks callers
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    page.evaluate(
        """(user) => { window.recs = RecsTracker.create({ userId: user, storagePrefix: "no-token:" }); }""",
        RICH_USER,
    )
    # When they purchase a product and the queue is flushed
    page.evaluate("() => { window.recs.purchase('sku_auth_2'); return window.recs.flush(); }")
    page.wait_for_function("() => window.recs.pending() === 0")
    # Then the API refused it (nothing in the lake) and the tracker warned with the status
    deadline = time.monotonic() + 10
    while not any("events refused (401)" in text for text in warnings) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any("events refused (401)" in text for text in warnings), warnings
    assert not [r for r in lake_records(secured.stack) if r.get("productId") == "sku_auth_2"]
    # And their personal list is refused too (401), as the API promises
    status = page.evaluate(
        "() => window.recs.recommendations({ context: 'homepage' }).then(() => 200, (error) => error.status)"
    )
    assert status == 401
