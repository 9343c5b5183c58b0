"""The diversity cap: at most N products of one category until every other candidate has had
its turn, a list never shorter for it, and the setting that turns it on per context."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from recs.config.recommend import RecommendSettings
from recs.serving.ranking import Filters, fill
from tests.unit.serving.test_settings import REQUIRED

CATALOG = {"a1": "A", "a2": "A", "a3": "A", "a4": "A", "b1": "B", "c1": "C"}


def _source(*products: str) -> list[tuple[str, float, str | None]]:
    return [(p, 1.0 - i / 10, "because") for i, p in enumerate(products)]


def test_a_cap_lets_other_categories_in_before_a_third_of_the_same() -> None:
    # Given a personal list led by four products of category A, then B and C
    chain = [("user", lambda: _source("a1", "a2", "a3", "a4", "b1", "c1"))]
    # When a list of 4 is filled with at most 2 per category
    filled = fill(chain, 4, Filters(catalog=CATALOG, max_per_category=2))
    # Then two A's come first, then B and C in their order
    assert [p for p, _, _ in filled.products] == ["a1", "a2", "b1", "c1"]
    assert [s for _, s, _ in filled.products] == sorted((s for _, s, _ in filled.products), reverse=True)


def test_a_cap_never_shortens_a_list_the_candidates_could_fill() -> None:
    # Given only products of category A, and a later source with one of B
    chain = [("user", lambda: _source("a1", "a2", "a3")), ("popular", lambda: _source("b1"))]
    # When a list of 4 is filled with at most 1 per category
    filled = fill(chain, 4, Filters(catalog=CATALOG, max_per_category=1))
    # Then the capped A's wait until every source has had its turn, then fill the rest in order
    assert [p for p, _, _ in filled.products] == ["a1", "b1", "a2", "a3"]
    assert filled.used == ["user", "popular"]


def test_without_a_cap_or_a_category_nothing_changes() -> None:
    chain = [("user", lambda: _source("a1", "a2", "x9", "a3"))]
    # A product without a known category is never capped; cap 0 is no cap
    capped = fill(chain, 4, Filters(catalog=CATALOG, max_per_category=1))
    assert [p for p, _, _ in capped.products] == ["a1", "x9", "a2", "a3"]
    assert [p for p, _, _ in fill(chain, 4, Filters(catalog=CATALOG)).products] == ["a1", "a2", "x9", "a3"]


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key, value in REQUIRED.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def test_caps_are_set_per_context_as_json(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("DIVERSITY_CAPS", json.dumps({"homepage": 3, "cart": 0}))
    assert RecommendSettings().diversity_caps == {"homepage": 3, "cart": 0}


@pytest.mark.parametrize(
    ("caps", "message"), [({"checkout": 2}, "unknown contexts"), ({"homepage": -1}, "0 \\(none\\) to 100")]
)
def test_a_cap_for_an_unknown_context_or_out_of_range_stops_the_cold_start(
    environment: pytest.MonkeyPatch, caps: dict[str, int], message: str
) -> None:
    environment.setenv("DIVERSITY_CAPS", json.dumps(caps))
    with pytest.raises(ValidationError, match=message):
        RecommendSettings()
