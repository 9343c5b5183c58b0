"""Recommendation ids carry context, source, experiment and variant, in the events' id alphabet."""

from __future__ import annotations

import re

from recs.models.events import ID_PATTERN
from recs.serving.attribution import RecommendationId


def test_an_id_reads_back_into_its_parts() -> None:
    made = RecommendationId.new(
        "product-page", "category-popular", "hp-model-vs-pop", "control", lambda: "0" * 16
    )
    assert RecommendationId.parse(str(made)) == made


def test_an_id_without_experiment_reads_back_with_none() -> None:
    made = RecommendationId.new("cart", "bought-together", None, None)
    parsed = RecommendationId.parse(str(made))
    assert parsed is not None
    assert (parsed.experiment, parsed.variant) == (None, None)


def test_the_longest_id_is_accepted_by_the_events_api() -> None:
    # Given the longest names the configuration allows
    made = RecommendationId.new("product-page", "category-popular", "e" * 20, "v" * 20)
    # Then the events API's id pattern accepts it as a recommendationId
    assert re.match(ID_PATTERN, str(made))


def test_ids_from_elsewhere_are_not_misread() -> None:
    assert RecommendationId.parse("rec-123") is None
    assert RecommendationId.parse("r1:homepage:user:-:-:not-hex-at-all!") is None


def test_every_impression_gets_its_own_id() -> None:
    ids = {str(RecommendationId.new("homepage", "user", None, None)) for _ in range(1000)}
    assert len(ids) == 1000
