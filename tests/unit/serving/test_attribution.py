"""Recommendation ids carry context, source, experiment and variant, in the events' id alphabet."""

from __future__ import annotations

import re

from recs.contracts.ids import ID_PATTERN
from recs.serving.attribution import RecommendationId


def test_an_id_reads_back_into_its_parts() -> None:
    # Given an id made for an experiment's control variant, with a fixed nonce
    made = RecommendationId.new(
        "product-page", "category-popular", "hp-model-vs-pop", "control", lambda: "0" * 16
    )
    # When its string form is parsed
    # Then the same context, source, experiment, variant and nonce come back
    assert RecommendationId.parse(str(made)) == made


def test_an_id_without_experiment_reads_back_with_none() -> None:
    # Given an id for a visitor in no experiment (written with '-' placeholders)
    made = RecommendationId.new("cart", "bought-together", None, None)
    # When it is parsed
    parsed = RecommendationId.parse(str(made))
    # Then the experiment and variant read back as None, not as '-'
    assert parsed is not None
    assert (parsed.experiment, parsed.variant) == (None, None)


def test_the_longest_id_is_accepted_by_the_events_api() -> None:
    # Given the longest names the configuration allows
    made = RecommendationId.new("product-page", "category-popular", "e" * 20, "v" * 20)
    # Then the events API's id pattern accepts it as a recommendationId
    assert re.match(ID_PATTERN, str(made))


def test_ids_from_elsewhere_are_not_misread() -> None:
    # Given ids this module did not make: a foreign one, and an r1 lookalike with a non-hex nonce
    # When they are parsed
    # Then neither is misread: each gives None
    assert RecommendationId.parse("rec-123") is None
    assert RecommendationId.parse("r1:homepage:user:-:-:not-hex-at-all!") is None


def test_every_impression_gets_its_own_id() -> None:
    # Given/When 1000 ids are made for the same context and source, each with a random nonce
    ids = {str(RecommendationId.new("homepage", "user", None, None)) for _ in range(1000)}
    # Then no two of them are the same
    assert len(ids) == 1000
