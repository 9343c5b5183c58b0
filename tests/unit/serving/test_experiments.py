"""Deterministic, sticky variant assignment by hashing (experiment, visitor)."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from recs.serving.experiments import BUCKETS, Experiment, Experiments, bucket, choose
from recs.serving.sources import Chains, Source

AB = Experiment.model_validate(
    {
        "name": "hp-test",
        "contexts": ["homepage"],
        "variants": [
            {"name": "model", "weight": 80},
            {"name": "control", "weight": 20, "chains": {"homepage": ["popular", "trending"]}},
        ],
    }
)


def test_the_same_visitor_always_gets_the_same_bucket() -> None:
    # Given/When the same visitor is bucketed twice for the same experiment
    # Then both times give the same bucket, within [0, BUCKETS)
    assert bucket("hp-test", "u:alice") == bucket("hp-test", "u:alice")
    assert 0 <= bucket("hp-test", "u:alice") < BUCKETS


def test_variants_receive_their_configured_share_of_visitors() -> None:
    # Given 20,000 random visitor ids (seeded)
    rng = random.Random(7)
    visitors = [f"a:{rng.getrandbits(64):x}" for _ in range(20_000)]
    # When each is assigned
    experiments = Experiments([AB], Chains())
    shares = {"model": 0, "control": 0}
    for visitor in visitors:
        assignment = experiments.assign("homepage", visitor)
        assert assignment is not None
        shares[assignment.variant] += 1
    # Then the split follows the weights (80/20) within sampling noise
    assert shares["control"] / len(visitors) == pytest.approx(0.2, abs=0.015)


def test_two_experiments_split_the_same_visitors_independently() -> None:
    # Given two experiments' buckets for the same visitors
    rng = random.Random(11)
    visitors = [f"u:{rng.getrandbits(64):x}" for _ in range(4_000)]
    first = [bucket("exp-a", v) < BUCKETS // 2 for v in visitors]
    second = [bucket("exp-b", v) < BUCKETS // 2 for v in visitors]
    # Then being in one half of the first says nothing about the second
    both = sum(a and b for a, b in zip(first, second, strict=True)) / len(visitors)
    assert both == pytest.approx(0.25, abs=0.03)


def test_a_variant_brings_its_chain_and_other_contexts_are_not_assigned() -> None:
    # Given the homepage experiment and a visitor whose bucket falls in its control variant
    experiments = Experiments([AB], Chains())
    control_visitor = next(
        f"a:{n}" for n in range(1000) if choose(AB, bucket("hp-test", f"a:{n}")).name == "control"
    )
    # When that visitor is assigned on the homepage
    assignment = experiments.assign("homepage", control_visitor)
    # Then they get the control variant's homepage chain (popular, then trending)
    assert assignment is not None
    assert assignment.chains.homepage == [Source.POPULAR, Source.TRENDING]
    # and neither a context the experiment does not cover nor a visitor without an id is assigned
    assert experiments.assign("cart", control_visitor) is None
    assert experiments.assign("homepage", None) is None


def test_a_zero_weight_variant_is_never_chosen() -> None:
    # Given an experiment whose "off" variant has weight 0
    experiment = Experiment.model_validate(
        {"name": "e", "variants": [{"name": "on", "weight": 1}, {"name": "off", "weight": 0}]}
    )
    # When a variant is chosen for buckets spread over the whole range
    # Then it is always "on"
    assert {choose(experiment, b).name for b in range(0, BUCKETS, 7)} == {"on"}


@pytest.mark.parametrize(
    "definition",
    [
        {"name": "e", "variants": [{"name": "a", "weight": 1}, {"name": "a", "weight": 1}]},
        {"name": "e", "variants": [{"name": "a", "weight": 0}]},
        {"name": "Has Spaces", "variants": [{"name": "a", "weight": 1}]},
        {"name": "e", "variants": [{"name": "a", "weight": 1, "chains": {"homepage": ["user"]}}]},
    ],
)
def test_unsound_experiments_are_refused(definition: dict[str, object]) -> None:
    # Given an unsound definition: a variant named twice, no variant with a positive weight,
    # a name that may not travel in recommendation ids, or a variant chain without popular or trending
    def load() -> Experiments:
        return Experiments([Experiment.model_validate(definition)], Chains())

    # When it is loaded (validated, then its variant chains merged with the defaults)
    # Then it is refused
    with pytest.raises((ValidationError, ValueError)):
        load()


def test_two_experiments_may_not_cover_the_same_context() -> None:
    # Given a second experiment that also covers the homepage
    other = AB.model_copy(update={"name": "other"})
    # When both are loaded together
    # Then they are refused, naming the context they share
    with pytest.raises(ValueError, match="both cover homepage"):
        Experiments([AB, other], Chains())
