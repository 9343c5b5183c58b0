"""A bare page serving the tracker from a local stack, and Chromium to open it: what the tracker's
browser tests share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from recs_tools.checkout import repo_root
from recs_tools.local.http import LocalApiServer
from recs_tools.local.stack import LocalStack
from recs_tools.local.storefront import SDK_PREFIX
from tests.e2e.test_storefront_browser import chromium_path

PAGE_PREFIX = "/tracker-test/"
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>tracker</title>
<script src="/sdk/recs-tracker.js"></script></head><body></body></html>"""


@contextmanager
def tracker_server(stack: LocalStack, page_dir: Path) -> Iterator[str]:
    """The stack's API with the bare page and the SDK beside it; yields the page's URL."""
    (page_dir / "index.html").write_text(PAGE)
    static = {PAGE_PREFIX: page_dir, SDK_PREFIX: repo_root() / "sdk"}
    server = LocalApiServer(stack, port=0, static=static).start()
    try:
        yield server.url + PAGE_PREFIX + "index.html"
    finally:
        server.stop()


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def page_at(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh profile on ``url`` whose clock follows the tests' pinned clock."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    context.clock.install(time=datetime.now(UTC))
    opened = context.new_page()
    opened.goto(url)
    try:
        yield opened
    finally:
        context.close()
