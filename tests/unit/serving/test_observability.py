"""The served log line carries pseudonyms only."""

from __future__ import annotations

import json

from recs.contracts.recommendations import RecommendationResponse, ScoredProduct
from recs.serving.observability import served_fields
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
