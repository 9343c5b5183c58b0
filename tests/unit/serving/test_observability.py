"""The served log line carries pseudonyms only."""

from __future__ import annotations

import json

from recs.contracts.recommendations import RecommendationResponse, ScoredProduct
from recs.serving.observability import served_fields, service_total_metrics
from recs.serving.repository import ReadStats
from recs.serving.service import Outcome


def test_the_served_fields_name_the_visitor_by_pseudonym_only() -> None:
    # Given a list served to the user pseudonymised as u_0123, from the user source, all from the cache
    outcome = Outcome(
        response=RecommendationResponse(
            products=[ScoredProduct(id="sku_1", score=1.0)],
            modelVersion="v1",
            generatedAt="g",
            source="user",
            recommendationId="r1:homepage:user:-:-:0000000000000000",
        ),
        stats=ReadStats(cache_hits=3),
        context="homepage",
        identity="user",
        visitor="u_0123",
        opted_out=False,
        sources_used=["user"],
    )
    # When the fields of its log line are built
    fields = served_fields(outcome, 0.4)
    # Then the visitor is named by the pseudonym
    assert fields["visitor"] == "u_0123"
    # and the cache outcome, the source and that it was personalized are reported
    assert (fields["cache"], fields["source"], fields["personalized"]) == ("hit", "user", True)
    # and no userId field appears anywhere in them
    assert "userId" not in json.dumps(fields)


def _served(identity: str, sources: list[str], *, opted_out: bool = False, store_errors: int = 0) -> Outcome:
    return Outcome(
        response=RecommendationResponse(
            products=[ScoredProduct(id="sku_1", score=1.0)],
            modelVersion="v1",
            generatedAt="g",
            source=sources[0],
            recommendationId="r1:homepage:user:-:-:0000000000000000",
        ),
        stats=ReadStats(cache_hits=1, store_errors=store_errors),
        context="homepage",
        identity=identity,
        visitor="p",
        opted_out=opted_out,
        sources_used=sources,
    )


def _totals(outcome: Outcome, **kwargs: bool) -> dict[str, float]:
    return {p.name: p.value for p in service_total_metrics(outcome, **kwargs)}


def test_service_totals_count_signed_in_shoppers_served_nothing_personal() -> None:
    # Given a signed-in shopper served their list, one served popular only, an opted-out one,
    # an anonymous visitor, a request whose token could not be checked, and a store fault
    personal = _totals(_served("user", ["user"]))
    fallback = _totals(_served("user", ["popular"]))
    opted_out = _totals(_served("user", ["popular"], opted_out=True))
    anonymous = _totals(_served("anonymous", ["popular"]))
    unverified = _totals(_served("anonymous", ["popular"]), caller_unverified=True)
    faulty = _totals(_served("user", ["popular"], store_errors=2))
    # Then every request counts once, signed-in shoppers' requests count, and only the one served
    # nothing personal is a fallback (an opt-out asked for nothing personal)
    assert personal == {"Requests": 1, "UserRequests": 1, "UserFallbacks": 0}
    assert fallback == {"Requests": 1, "UserRequests": 1, "UserFallbacks": 1}
    assert opted_out == anonymous == {"Requests": 1}
    # And unverified callers and store errors are counted for their alarms
    assert unverified == {"Requests": 1, "CallersUnverified": 1}
    assert faulty["StoreErrors"] == 2
