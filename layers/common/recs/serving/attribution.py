"""Recommendation ids that carry what attribution needs, so no lookup is ever required.

A served list gets an id such as ``r1:homepage:user:hp-model:control:3f2a9c1b7d4e5f60``:
format version, context, the source that served first, experiment and variant (``-`` when the
visitor is in none), and a random nonce that makes every impression unique. The frontend echoes
it in the `recommendationId` of the clicks and purchases that came from the list, so the lake's
events alone give CTR and add-to-cart rate per variant (docs/serving.md). It only ever uses
characters the events API accepts in ids.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "r1"
NONE = "-"
_PATTERN = re.compile(
    r"^r1:(?P<context>[a-z-]{1,16}):(?P<source>[a-z-]{1,16}):(?P<experiment>[a-z0-9-]{1,20}):"
    r"(?P<variant>[a-z0-9-]{1,20}):(?P<nonce>[0-9a-f]{16})$"
)


def random_nonce() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class RecommendationId:
    context: str
    source: str
    experiment: str | None
    variant: str | None
    nonce: str

    def __str__(self) -> str:
        return ":".join(
            (
                VERSION,
                self.context,
                self.source,
                self.experiment or NONE,
                self.variant or NONE,
                self.nonce,
            )
        )

    @classmethod
    def new(
        cls,
        context: str,
        source: str,
        experiment: str | None,
        variant: str | None,
        nonce: Callable[[], str] = random_nonce,
    ) -> RecommendationId:
        return cls(context, source, experiment, variant, nonce())

    @classmethod
    def parse(cls, value: str) -> RecommendationId | None:
        """The parts of an id this module made, or None for anything else (old or foreign ids)."""
        match = _PATTERN.match(value)
        if match is None:
            return None
        parts = match.groupdict()
        return cls(
            context=parts["context"],
            source=parts["source"],
            experiment=None if parts["experiment"] == NONE else parts["experiment"],
            variant=None if parts["variant"] == NONE else parts["variant"],
            nonce=parts["nonce"],
        )
