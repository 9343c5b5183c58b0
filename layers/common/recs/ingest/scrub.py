"""Privacy at the door: what a ShopEvent becomes before it may reach the lake."""

from __future__ import annotations

import re
from datetime import datetime

from recs.domain.pseudonym import Pseudonymizer
from recs.models.events import LakeEvent, ShopEvent

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Seven or more digits, optionally grouped by spaces, dots, dashes or parentheses, maybe with +.
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-]{5,}\d")


def scrub_text(text: str) -> str:
    """Remove anything in free text that looks like an e-mail address or a phone number."""
    return _PHONE.sub("[redacted]", _EMAIL.sub("[redacted]", text)).strip()


def to_lake_event(event: ShopEvent, pseudonyms: Pseudonymizer, received_at: datetime) -> LakeEvent:
    """Replace ids by pseudonyms and scrub free text; unknown fields were already dropped."""
    data = event.model_dump(exclude_none=True)
    data["userId"] = pseudonyms.user(event.userId) if event.userId else None
    data["anonId"] = pseudonyms.anon(event.anonId) if event.anonId else None
    if event.sessionId:
        data["sessionId"] = pseudonyms.session(event.sessionId)
    if event.query:
        data["query"] = scrub_text(event.query)
    data["receivedAt"] = received_at
    return LakeEvent.model_validate(data)
