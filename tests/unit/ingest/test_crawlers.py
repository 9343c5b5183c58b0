"""Events sent by known crawlers never reach the lake: they are not shoppers' behaviour."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from recs.ingest.crawlers import is_known_crawler
from recs.ingest.errors import NoValidEventsError
from recs.ingest.payload import IngestRequest
from recs.ingest.service import IngestService
from tests.unit.ingest.fakes import MemorySink, lake_only_service

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
GOOGLEBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1;"
    " +http://www.google.com/bot.html) Chrome/131.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "crawler"),
    [
        (GOOGLEBOT, True),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", True),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", True),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", True),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)", True),
        (CHROME, False),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0",
            False,
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", False),
        (None, False),
        ("", False),
    ],
)
def test_known_crawlers_are_recognised_and_browsers_are_not(user_agent: str | None, crawler: bool) -> None:
    # Given a request's User-Agent / Then it is a known crawler's or not
    assert is_known_crawler(user_agent) is crawler


def _post(user_agent: str) -> IngestRequest:
    event = {
        "eventId": "00000000-0000-4000-8000-000000000001",
        "eventType": "view",
        "timestamp": (NOW - timedelta(minutes=1)).isoformat(),
        "anonId": "anon_1",
        "productId": "sku_1",
    }
    return IngestRequest(
        content_type="application/json", body=json.dumps({"events": [event]}).encode(), user_agent=user_agent
    )


def _service(sink: MemorySink) -> IngestService:
    return lake_only_service(sink, NOW)


def test_a_crawlers_events_are_refused_naming_the_user_agent_and_a_browsers_are_stored() -> None:
    # Given the same event sent by Googlebot and by a browser
    sink = MemorySink()
    service = _service(sink)
    # When the crawler sends it / Then nothing is stored, and the 400 names the User-Agent
    with pytest.raises(NoValidEventsError) as refused:
        service.ingest(_post(GOOGLEBOT))
    assert sink.lines == []
    assert [(r.field, r.code) for r in refused.value.rejections] == [("User-Agent", "crawler")]
    # When a browser sends it / Then it is stored
    assert service.ingest(_post(CHROME)).accepted == 1
    assert len(sink.lines) == 1
