"""The tracker in Chromium: it asks the API for a signed anonymous id, sends events with it, and
lets the anonymous visitor (and only the holder of that id) opt out, export and erase; when the API
cannot issue one, a local id stands in and rights wait for a signed id."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from recs.pseudonyms import Pseudonymizer
from recs.store_layout import tombstone_key
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from tests.e2e.test_storefront_browser import wait_for_lake
from tests.e2e.tracker_page import chromium, page_at, tracker_server
from tests.integration.serving.world import World

PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
SIGNED = re.compile(r"^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$")


@dataclass
class Served:
    stack: LocalStack
    url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}) as stack:
        World(stack).publish_everything()
        with tracker_server(stack, tmp_path_factory.mktemp("visitor-page")) as url:
            yield Served(stack, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    with page_at(browser, served.url) as opened:
        yield opened


def _create(page: Page, **options: Any) -> str:
    """A tracker on the page (window.recs); returns its anonymous id once the first request settled."""
    page.evaluate("(options) => { window.recs = RecsTracker.create(options); }", options)
    page.evaluate("() => window.recs.recommendations({ context: 'homepage', limit: 3 })")
    return str(page.evaluate("() => window.recs.anonId()"))


def _lake_has(served: Served, product: str, anon_pseudonym: str) -> bool:
    records = wait_for_lake(
        served.stack,
        lambda found: any(r.get("productId") == product and r.get("anonId") == anon_pseudonym for r in found),
    )
    return any(r.get("productId") == product and r.get("anonId") == anon_pseudonym for r in records)


def _state_row(stack: LocalStack, key: tuple[str, str]) -> dict[str, Any] | None:
    item = (
        stack.client("dynamodb")
        .get_item(TableName=stack.physical["StateTable"], Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}})
        .get("Item")
    )
    return dict(item) if item else None


def test_the_tracker_gets_a_signed_id_and_its_holder_opts_out_and_erases(page: Page, served: Served) -> None:
    # Given a new browser: the tracker asks the API for a signed anonymous id
    anon_id = _create(page, storagePrefix="rights:")
    assert SIGNED.match(anon_id), anon_id
    # When the visitor views a product
    page.evaluate("() => { window.recs.view('sku_visitor_1'); return window.recs.flush(); }")
    page.wait_for_function("() => window.recs.pending() === 0")
    # Then the lake holds the view under the signed id's pseudonym
    assert _lake_has(served, "sku_visitor_1", PSEUDONYMS.anon(anon_id))

    # When the visitor opts out through the tracker
    answer = page.evaluate("() => window.recs.optOut()")
    # Then the API says so, and the visitor's privacy status reads it back
    assert answer["preferences"] == {"recommendations": False}
    assert page.evaluate("() => window.recs.privacy()")["preferences"] == {"recommendations": False}

    # When the visitor asks for erasure
    receipt = page.evaluate("() => window.recs.erase()")
    # Then a pending receipt; the id is tombstoned; the tracker gets a new signed id
    assert receipt["status"] == "pending"
    tombstone = PSEUDONYMS.tombstone(PSEUDONYMS.anon(anon_id))
    assert _state_row(served.stack, tombstone_key(tombstone)) is not None
    page.wait_for_function(
        "(old) => window.recs.anonId() !== old && /^v1\\./.test(window.recs.anonId())", arg=anon_id
    )
    # And the receipt is readable by this browser (it kept the erased id for that)
    assert page.evaluate("() => window.recs.erasure()")["receiptId"] == receipt["receiptId"]
    # And the new id starts afresh (not opted out), its holder's own state
    assert page.evaluate("() => window.recs.privacy()")["preferences"] == {"recommendations": True}


def test_the_holder_exports_their_data_and_the_erasure_forgets_the_export(page: Page, served: Served) -> None:
    # Given a new browser with a signed id whose view reached the lake
    anon_id = _create(page, storagePrefix="export:")
    page.evaluate("() => { window.recs.view('sku_visitor_2'); return window.recs.flush(); }")
    assert _lake_has(served, "sku_visitor_2", PSEUDONYMS.anon(anon_id))
    # When there was no export yet / Then there is no receipt to read
    assert page.evaluate("() => window.recs.dataExport()") is None
    # When the visitor asks for an export
    accepted = page.evaluate("() => window.recs.exportData()")
    # Then a receipt; once the job has run (locally, within the request) the tracker reads it
    # back ready, with a presigned URL of the export bucket (moto's URL is not fetched from here)
    assert accepted["status"] == "pending"
    ready = page.evaluate("() => window.recs.dataExport()")
    assert (ready["receiptId"], ready["status"]) == (accepted["receiptId"], "ready")
    assert served.stack.physical["ExportBucket"] in ready["url"]
    assert "X-Amz-Signature=" in ready["url"]
    # When the visitor erases the id / Then the export is forgotten with it (the API deleted it)
    page.evaluate("() => window.recs.erase()")
    assert page.evaluate("() => window.recs.dataExport()") is None


def test_a_tampered_id_is_refused_and_says_why(page: Page) -> None:
    # Given a tracker whose stored id was altered (a forged signature)
    anon_id = _create(page, storagePrefix="forged:")
    forged = anon_id[:-1] + ("A" if anon_id[-1] != "A" else "B")
    page.evaluate("(id) => localStorage.setItem('forged:anonId', JSON.stringify(id))", forged)
    # When it tries to opt out
    refused = page.evaluate(
        "() => window.recs.optOut().then(() => null, (error) => ({ status: error.status, body: error.body }))"
    )
    # Then the API refuses with 401, naming the header
    assert refused["status"] == 401
    assert [e["field"] for e in refused["body"]["errors"]] == ["X-Recs-Visitor"]


def test_without_the_issuing_route_a_local_id_stands_in_and_rights_wait_for_a_signed_one(
    page: Page, served: Served
) -> None:
    # Given an API whose POST /api/visitors cannot be reached
    def unreachable(route: Route) -> None:
        route.abort()

    page.route("**/api/visitors", unreachable)
    anon_id = _create(page, storagePrefix="offline:", anonIdRetryMs=0)
    # Then the tracker still works with a local id: events reach the lake with it
    assert anon_id.startswith("a_")
    page.evaluate("() => { window.recs.view('sku_visitor_2'); return window.recs.flush(); }")
    page.wait_for_function("() => window.recs.pending() === 0")
    assert _lake_has(served, "sku_visitor_2", PSEUDONYMS.anon(anon_id))
    # And an opt-out is not possible yet (status 0: no signed id), rather than sent unprovable
    assert page.evaluate("() => window.recs.optOut().then(() => 200, (error) => error.status)") == 0

    # When the route is reachable again and the visitor opts out
    page.unroute("**/api/visitors", unreachable)
    answer = page.evaluate("() => window.recs.optOut()")
    # Then the tracker got a signed id first, and the opt-out is that id's
    assert answer["preferences"] == {"recommendations": False}
    assert SIGNED.match(str(page.evaluate("() => window.recs.anonId()")))


def test_the_tracker_passes_tags_and_brands_as_the_route_names_them(page: Page) -> None:
    # Given a tracker whose recommendation requests are watched on their way to the API
    asked: list[str] = []

    def watch(route: Route) -> None:
        asked.append(route.request.url)
        route.continue_()

    page.route("**/api/recommendations?**", watch)
    _create(page)
    # When a page asks with an array of tags and brands, then with one tag alone
    page.evaluate(
        "() => window.recs.recommendations({ context: 'homepage', category: 'cat_a', tags: ['eco', 'Sale'],"
        " brands: ['acme'] })"
    )
    page.evaluate("() => window.recs.recommendations({ context: 'homepage', tag: 'gift' })")
    # Then the route gets `tag` comma-separated like `brand` (the API answers both: an empty list
    # here, the world has no attribute map)
    filtered, single = (parse_qs(urlsplit(url).query) for url in asked[-2:])
    assert (filtered["tag"], filtered["brand"], filtered["category"]) == (["eco,Sale"], ["acme"], ["cat_a"])
    assert single["tag"] == ["gift"]
    assert "brand" not in single
