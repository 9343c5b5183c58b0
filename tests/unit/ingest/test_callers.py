"""Events about a user need that user's bearer token when caller authorization is on: nobody can
write into another shopper's history (their personal lists, buy-again, the session signal)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from recs.auth.caller import Caller
from recs.auth.errors import IssuerUnavailableError, UnauthorizedError
from recs.auth.policy import SubjectPolicy
from recs.ingest.errors import NoValidEventsError
from recs.ingest.payload import IngestRequest
from recs.ingest.service import IngestService
from recs.pseudonyms import Pseudonymizer
from tests.unit.ingest.fakes import TEST_KEY, MemorySink, lake_only_service

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class TokensOf:
    """A verifier whose valid tokens are "token-<subject>"; `down` plays an unreachable issuer."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.checked: list[str] = []

    def verify(self, token: str) -> Caller:
        self.checked.append(token)
        if self.down:
            raise IssuerUnavailableError("keys cannot be fetched")
        if not token.startswith("token-"):
            raise UnauthorizedError("not a token of the issuer")
        return Caller(token.removeprefix("token-"))


def _event(n: int, **who: str) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "view",
        "timestamp": "2026-03-02T11:59:00Z",
        "productId": f"sku_{n}",
        **who,
    }


def _service(sink: MemorySink, verifier: TokensOf | None, enabled: bool = True) -> IngestService:
    return lake_only_service(sink, NOW, SubjectPolicy(enabled=enabled, verifier=verifier))


def _post(events: list[dict[str, Any]], token: str | None = None) -> IngestRequest:
    return IngestRequest(
        content_type="application/json",
        body=json.dumps({"events": events}).encode(),
        authorization=f"Bearer {token}" if token else None,
    )


def _stored_users(sink: MemorySink) -> list[str | None]:
    return [json.loads(line).get("userId") for line in sink.lines]


def test_anonymous_events_need_no_token() -> None:
    # Given caller authorization on and events about nobody in particular
    sink, verifier = MemorySink(), TokensOf()
    # When they are posted without a token
    result = _service(sink, verifier).ingest(_post([_event(1, anonId="anon_1"), _event(2, anonId="anon_1")]))
    # Then all are stored and no token was looked at
    assert result.accepted == 2
    assert len(sink.lines) == 2
    assert verifier.checked == []


@pytest.mark.parametrize("token", [None, "forged"])
def test_events_about_a_user_without_a_valid_token_are_refused_whole(token: str | None) -> None:
    # Given caller authorization on and a batch with one event about a user
    sink = MemorySink()
    events = [_event(1, anonId="anon_1"), _event(2, userId="user_1")]
    # When it is posted without a token, or with one the issuer did not sign
    # Then the request is unauthorized and nothing at all is stored (the client keeps it)
    with pytest.raises(UnauthorizedError):
        _service(sink, TokensOf()).ingest(_post(events, token))
    assert sink.lines == []


def test_with_a_users_token_only_events_about_another_user_are_rejected_one_by_one() -> None:
    # Given user_1's token and a batch about user_1, user_2 and an anonymous visitor
    sink = MemorySink()
    events = [_event(1, userId="user_1"), _event(2, userId="user_2"), _event(3, anonId="anon_1")]
    # When it is posted
    result = _service(sink, TokensOf()).ingest(_post(events, "token-user_1"))
    # Then user_1's and the anonymous event are stored, under pseudonyms
    pseudonyms = Pseudonymizer(TEST_KEY)
    assert _stored_users(sink) == [pseudonyms.user("user_1"), None]
    # And user_2's event is rejected, naming its index, the field and why
    assert result.accepted == 2
    assert [(r.index, r.field, r.code) for r in result.rejections] == [(1, "userId", "not_the_callers_user")]


def test_only_other_users_events_is_a_bad_request_naming_each_event() -> None:
    # Given user_1's token and events about user_2 only
    sink = MemorySink()
    # When they are posted
    with pytest.raises(NoValidEventsError) as refused:
        _service(sink, TokensOf()).ingest(_post([_event(1, userId="user_2")], "token-user_1"))
    # Then nothing is stored and the 400 names the userId of the event
    assert sink.lines == []
    assert [(r.index, r.field) for r in refused.value.rejections] == [(0, "userId")]


def test_when_no_token_can_be_checked_nothing_is_stored_and_the_client_retries() -> None:
    # Given an issuer whose keys cannot be fetched
    sink = MemorySink()
    # When events about a user arrive with a token
    # Then the request fails as unavailable (503, Retry-After) and nothing is stored
    with pytest.raises(IssuerUnavailableError):
        _service(sink, TokensOf(down=True)).ingest(_post([_event(1, userId="user_1")], "token-user_1"))
    assert sink.lines == []


def test_without_caller_authorization_any_user_id_is_taken_as_before() -> None:
    # Given caller authorization off (no issuer configured)
    sink = MemorySink()
    # When events about two users arrive without a token
    result = _service(sink, None, enabled=False).ingest(
        _post([_event(1, userId="user_1"), _event(2, userId="user_2")])
    )
    # Then both are stored
    assert result.accepted == 2
