"""Sampling rules end to end: the tracker in Chromium and the ingest API choose the same one view
in N by eventId, so the lake holds the same views whether the browser or the API thins them, each
stamped with N; a browser declaring another rate is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from recs.ingest.sampling import in_sample
from recs_tools.local.stack import LocalStack
from tests.e2e.test_storefront_browser import wait_for_lake
from tests.e2e.tracker_page import chromium, page_at, tracker_server
from tests.integration.ingest.lake import lake_records

VIEWS = 60


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """A stack keeping one view in four (SamplingRules)."""
    with LocalStack(parameter_overrides={"LogLevel": "WARNING", "SamplingRules": '{"view": 4}'}) as stack:
        yield stack


@pytest.fixture(scope="module")
def url(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with tracker_server(stack, tmp_path_factory.mktemp("tracker-page")) as page_url:
        yield page_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[Page]:
    with page_at(browser, url) as opened:
        yield opened


def _view_all(page: Page, prefix: str, sampling: str) -> list[str | None]:
    """Create a tracker with `sampling` (JS), view VIEWS products, flush; the ids `view` returned."""
    ids: list[str | None] = page.evaluate(
        f"""([prefix, n]) => {{
            window.recs = RecsTracker.create({{ storagePrefix: prefix, sampling: {sampling} }});
            const ids = [];
            for (let i = 0; i < n; i++) ids.push(window.recs.view(prefix + i));
            return ids;
        }}""",
        [prefix, VIEWS],
    )
    page.evaluate("() => window.recs.flush()")
    page.wait_for_function("() => window.recs.pending() === 0")
    return ids


def _stored_views(stack: LocalStack, prefix: str, expected: int) -> list[dict[str, object]]:
    records = wait_for_lake(
        stack, lambda found: sum(str(r.get("productId", "")).startswith(prefix) for r in found) >= expected
    )
    return [r for r in records if str(r.get("productId", "")).startswith(prefix)]


def test_the_tracker_sends_only_the_views_ingest_keeps_stamped_with_the_rate(
    page: Page, stack: LocalStack
) -> None:
    # Given a tracker told the shop keeps one view in four
    # When a shopper views 60 products
    ids = _view_all(page, "trk_", "{ view: 4 }")
    # Then it sent exactly the views whose eventId the rule keeps (the others returned null)
    sent = [i for i in ids if i is not None]
    assert 0 < len(sent) < VIEWS
    assert all(in_sample(i, 4) for i in sent)
    # And the lake holds those, each standing for four views
    stored = _stored_views(stack, "trk_", len(sent))
    assert sorted(str(r["eventId"]) for r in stored) == sorted(sent)
    assert {r["sampleRate"] for r in stored} == {4}


def test_without_the_option_ingest_samples_the_same_way(page: Page, stack: LocalStack) -> None:
    # Given a tracker that knows nothing of the rule
    # When a shopper views 60 products (all are sent)
    ids = [i for i in _view_all(page, "api_", "null") if i is not None]
    assert len(ids) == VIEWS
    # Then the lake keeps the ones the rule keeps, stamped by ingest
    kept = [i for i in ids if in_sample(i, 4)]
    stored = _stored_views(stack, "api_", len(kept))
    assert sorted(str(r["eventId"]) for r in stored) == sorted(kept)
    assert {r["sampleRate"] for r in stored} == {4}


def test_a_tracker_declaring_another_rate_is_refused(page: Page, stack: LocalStack) -> None:
    # Given a tracker told one view in two, while the shop keeps one in four
    ids = [i for i in _view_all(page, "bad_", "{ view: 2 }") if i is not None]
    assert ids
    # Then none of its views is stored
    assert not [r for r in lake_records(stack) if str(r.get("productId", "")).startswith("bad_")]
