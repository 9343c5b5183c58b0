"""A/B experiments: deterministic, sticky assignment of visitors to configured variants.

A visitor's bucket is a hash of (experiment name, visitor id), so the same visitor lands in the
same variant on every request and every container, with no state to store, and two experiments
split the same visitors independently. Renaming an experiment reshuffles its visitors; changing
weights moves only the visitors whose bucket crosses a boundary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from recs.serving.sources import CONTEXTS, ChainOverrides, Chains

BUCKETS = 10_000
#: Experiment and variant names travel inside recommendation ids, so they are short and plain.
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,19}$")]


class Variant(BaseModel):
    """One arm of an experiment: its share of visitors and how it differs from the defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    weight: int = Field(ge=0, le=BUCKETS, description="Relative share of the experiment's visitors.")
    chains: ChainOverrides = Field(
        default_factory=dict,
        description="Per-context source chains replacing the defaults (empty: the defaults).",
    )


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    contexts: list[Annotated[str, Field(pattern=r"^(homepage|product-page|cart)$")]] = Field(
        default_factory=lambda: list(CONTEXTS), min_length=1
    )
    variants: list[Variant] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _sound(self) -> Self:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name} names a variant twice")
        if sum(v.weight for v in self.variants) <= 0:
            raise ValueError(f"experiment {self.name} has no variant with a positive weight")
        return self


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: str
    chains: Chains


class Experiments:
    """The configured experiments, ready to assign visitors (at most one experiment per context)."""

    def __init__(self, experiments: list[Experiment], defaults: Chains) -> None:
        self._by_context: dict[str, Experiment] = {}
        for experiment in experiments:
            for context in experiment.contexts:
                if context in self._by_context:
                    raise ValueError(
                        f"experiments {self._by_context[context].name} and {experiment.name} "
                        f"both cover {context}"
                    )
                self._by_context[context] = experiment
        # Variant chains are validated (and merged with the defaults) once, at cold start.
        self._chains = {(e.name, v.name): defaults.merged(v.chains) for e in experiments for v in e.variants}

    def assign(self, context: str, visitor: str | None) -> Assignment | None:
        """The variant of `visitor` (a user or anonymous id) in the experiment covering `context`.

        Visitors without any id cannot be assigned stickily and stay outside experiments.
        """
        experiment = self._by_context.get(context)
        if experiment is None or not visitor:
            return None
        variant = choose(experiment, bucket(experiment.name, visitor))
        return Assignment(experiment.name, variant.name, self._chains[(experiment.name, variant.name)])


def bucket(experiment: str, visitor: str) -> int:
    """A stable bucket in [0, BUCKETS) for the pair (experiment, visitor)."""
    digest = hashlib.sha256(f"{experiment}\x00{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def choose(experiment: Experiment, bucket_: int) -> Variant:
    """The variant whose share of [0, BUCKETS) holds the bucket (shares follow the weights)."""
    total = sum(v.weight for v in experiment.variants)
    point = bucket_ * total // BUCKETS
    cumulative = 0
    for variant in experiment.variants:
        cumulative += variant.weight
        if point < cumulative:
            return variant
    raise AssertionError("unreachable: the weights sum to more than the point")
