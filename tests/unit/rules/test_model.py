"""A rule's validation: one target, the fields of its kind, a window that is not empty."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from recs.rules.model import RuleBody, RuleContext
from recs.serving.query import KNOWN_CONTEXTS
from tests.clock import PINNED_NOW

WINDOW = {"startsAt": PINNED_NOW, "endsAt": PINNED_NOW + timedelta(days=1)}


def body(**fields: Any) -> RuleBody:
    return RuleBody.model_validate({**WINDOW, **fields})


def test_the_rule_contexts_are_the_served_contexts() -> None:
    # Given the rule contexts / Then they are the contexts serving knows
    assert set(RuleContext.__args__) == set(KNOWN_CONTEXTS)  # type: ignore[attr-defined]


def test_boost_and_bury_default_factors_and_brands_match_as_the_catalog_keeps_them() -> None:
    # Given boosts and buries without a factor, and a brand in any case / Then defaults and the key
    assert body(kind="boost", category="shoes").effective_factor == 2.0
    assert body(kind="bury", productId="p1").effective_factor == 0.5
    assert body(kind="boost", brand="  ACME ", factor=3).brand_key == "acme"


def test_a_rule_acts_in_its_contexts_and_inside_its_window_only() -> None:
    # Given a cart-only rule and an everywhere rule of one day / Then where and when they act
    rule = body(kind="block", productId="p1", contexts=["cart"])
    everywhere = body(kind="block", productId="p1")
    assert rule.acts_in("cart")
    assert not rule.acts_in("homepage")
    assert everywhere.acts_in("homepage")
    assert rule.active_at(PINNED_NOW)  # startsAt is inclusive
    assert not rule.active_at(PINNED_NOW + timedelta(days=1))  # endsAt is exclusive
    assert not rule.active_at(PINNED_NOW - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"kind": "pin", "productId": "p1"}, "position"),
        ({"kind": "pin", "category": "shoes", "position": 1}, "productId"),
        ({"kind": "block", "brand": "acme"}, "productId"),
        ({"kind": "boost", "productId": "p1", "brand": "acme"}, "productId"),
        ({"kind": "boost"}, "productId"),
        ({"kind": "boost", "productId": "p1", "factor": 1.0}, "factor"),
        ({"kind": "bury", "productId": "p1", "factor": 1.5}, "factor"),
        ({"kind": "block", "productId": "p1", "factor": 0.5}, "factor"),
        ({"kind": "boost", "productId": "p1", "position": 3}, "position"),
        ({"kind": "block", "productId": "p1", "endsAt": PINNED_NOW}, "endsAt"),
        ({"kind": "block", "productId": "p1", "contexts": ["cart", "cart"]}, "contexts"),
    ],
)
def test_an_inconsistent_rule_is_refused_naming_its_field(fields: dict[str, Any], named: str) -> None:
    # Given a rule whose fields contradict its kind / When validated / Then the error names the field
    with pytest.raises(ValidationError) as raised:
        body(**fields)
    assert str(raised.value.errors()[0]["msg"]).removeprefix("Value error, ").startswith(f"{named}: ")


@pytest.mark.parametrize(
    "fields",
    [
        {"factor": float("nan")},
        {"factor": 1000.0},
        {"position": 101},
        {"startsAt": PINNED_NOW.replace(tzinfo=None)},
        {"note": "line\x00break"},
        {"contexts": ["checkout"]},
    ],
)
def test_out_of_range_values_are_refused(fields: dict[str, Any]) -> None:
    # Given a pin with one value out of range / When validated / Then it is refused
    base = {"kind": "pin", "productId": "p1", "position": 1}
    with pytest.raises(ValidationError):
        body(**{**base, **fields})


def test_the_rule_targets_have_the_query_s_shapes() -> None:
    # Given the rule model's target types / Then they are the recommendations query's
    # The rules package names these types itself (serving imports it, not the other way round).
    from recs.rules import model
    from recs.serving import query

    assert model.Identifier == query.Identifier
    assert model.Category == query.Category
    assert model.Brand == query.Brand
