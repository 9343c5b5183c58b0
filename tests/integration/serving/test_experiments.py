"""A/B assignment through the handler: sticky, configured, and carried into attribution ids."""

from __future__ import annotations

import json

import pytest

from recs.serving.attribution import RecommendationId
from tests.integration.serving.world import RICH_USER, World

EXPERIMENT = [
    {
        "name": "hp-model-vs-pop",
        "contexts": ["homepage"],
        "variants": [
            {"name": "model", "weight": 50},
            {"name": "popular", "weight": 50, "chains": {"homepage": ["popular", "trending"]}},
        ],
    }
]


@pytest.fixture
def experimenting(world: World) -> World:
    world.stack.function("RecommendFunction").environment["EXPERIMENTS"] = json.dumps(EXPERIMENT)
    return world


def test_a_visitor_keeps_their_variant_across_requests_and_containers(experimenting: World) -> None:
    # Given the experiment, and the rich user asking three times
    variants = {experimenting.ask("recommend_homepage")[1]["variant"] for _ in range(3)}
    # When a new container serves them
    experimenting.stack.function("RecommendFunction")._handler = None
    _, again, _ = experimenting.ask("recommend_homepage")
    # Then it is always the same variant
    assert len(variants) == 1
    assert again["variant"] in variants
    assert again["experiment"] == "hp-model-vs-pop"


def test_each_variant_serves_its_configured_chain(experimenting: World) -> None:
    # Given many anonymous visitors and the rich user
    by_variant: dict[str, set[str]] = {}
    for n in range(40):
        _, body, _ = experimenting.ask("recommend_anonymous", anonId=f"anon_{n}")
        by_variant.setdefault(body["variant"], set()).add(body["source"])
    _, user, _ = experimenting.ask("recommend_homepage", userId=RICH_USER)
    # Then both variants are used, and the control's visitors only see popular products
    assert set(by_variant) == {"model", "popular"}
    assert by_variant["popular"] == {"popular"}
    assert user["source"] == ("user" if user["variant"] == "model" else "popular")


def test_the_recommendation_id_carries_experiment_variant_and_context(experimenting: World) -> None:
    # Given an assigned visitor
    _, body, _ = experimenting.ask("recommend_homepage")
    # When the id they will echo in click events is read back
    parsed = RecommendationId.parse(body["recommendationId"])
    # Then it names everything CTR per variant needs, without a lookup
    assert parsed is not None
    assert (parsed.experiment, parsed.variant, parsed.context, parsed.source) == (
        "hp-model-vs-pop",
        body["variant"],
        "homepage",
        body["source"],
    )


def test_contexts_outside_the_experiment_are_not_assigned(experimenting: World) -> None:
    # Given the experiment covers the homepage only
    _, body, _ = experimenting.ask("recommend_cart")
    # Then a cart request carries no variant
    assert "variant" not in body
    parsed = RecommendationId.parse(body["recommendationId"])
    assert parsed is not None
    assert parsed.variant is None
