"""Events sent by known crawlers are not shoppers' behaviour: they are refused at ingest.

Search engines and link previewers render pages and can run the tracker; counted, their views
would push what they crawl into popular and trending lists. The list names crawlers by their
User-Agent tokens (a case-insensitive search). Headless browsers are not on it: shops test with
them, and a scripted client that wants to pass for a shopper changes its User-Agent anyway (the
per-visitor caps of the poisoning work are for those).
"""

from __future__ import annotations

import re

_CRAWLERS = re.compile(
    r"googlebot|bingbot|yandex(bot|images)|baiduspider|duckduckbot|slurp|sogou|exabot|applebot"
    r"|facebookexternalhit|facebot|twitterbot|linkedinbot|pinterestbot|slackbot|discordbot"
    r"|telegrambot|whatsapp|ahrefsbot|semrushbot|mj12bot|dotbot|petalbot|bytespider|gptbot"
    r"|ccbot|claudebot|amazonbot|seznambot|qwantify|\bcrawler\b|\bspider\b",
    re.IGNORECASE,
)


def is_known_crawler(user_agent: str | None) -> bool:
    """Whether the User-Agent names a known crawler or link previewer."""
    return bool(user_agent) and _CRAWLERS.search(user_agent or "") is not None
