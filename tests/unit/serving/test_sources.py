"""Fallback chains as configuration: validated at cold start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recs.serving.sources import Chains, Source


def test_the_default_chains_end_in_non_personalized_sources() -> None:
    # Given the default chains
    chains = Chains()
    # When the chain of each context, known or unknown, is read
    # Then each ends in popular, then trending
    for context in ("homepage", "product-page", "cart", "anything-else"):
        assert chains.of(context)[-2:] == [Source.POPULAR, Source.TRENDING]
    # and an unknown context gets the homepage chain
    assert chains.of("anything-else") == chains.homepage


def test_chains_are_read_from_json_with_context_names() -> None:
    # Given the JSON an operator writes
    chains = Chains.model_validate_json('{"product-page": ["similar", "popular"]}')
    # Then product-page is replaced and the others keep their defaults
    assert chains.of("product-page") == [Source.SIMILAR, Source.POPULAR]
    assert chains.of("cart") == Chains().cart


@pytest.mark.parametrize(
    ("chain", "complaint"),
    [
        (["user", "nonsense", "popular"], "nonsense"),
        (["user", "user", "popular"], "twice"),
        (["user", "session"], "popular or trending"),
        ([], "at least 1"),
    ],
)
def test_unsound_chains_are_refused_saying_why(chain: list[str], complaint: str) -> None:
    # Given a homepage chain with an unknown source, a repeated source, neither popular nor trending,
    # or no source at all
    # When it is validated
    with pytest.raises(ValidationError) as raised:
        Chains.model_validate({"homepage": chain})
    # Then it is refused with a message saying what is wrong
    assert complaint in str(raised.value)


def test_an_override_replaces_only_its_contexts() -> None:
    # Given/When the default chains are merged with an override of the homepage chain
    merged = Chains().merged({"homepage": [Source.POPULAR]})
    # Then the homepage chain is the override
    assert merged.homepage == [Source.POPULAR]
    # and the other contexts keep their defaults
    assert merged.cart == Chains().cart
