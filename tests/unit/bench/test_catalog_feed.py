"""The catalog feed benchmark measures the scenario it names: the model it sets up knows the
share of products it says, so the feed ranks exactly the rest as new."""

from __future__ import annotations

import json
import random

from bench.catalog_feed import Scenario, _export, _measure


def test_a_daily_update_treats_only_the_products_the_model_does_not_know_as_new() -> None:
    # Given a 200-product export whose serving model knows the first 90%
    scenario = Scenario("daily update", 200, 4, 0.9)
    export = _export(scenario, random.Random(1))
    rows = [json.loads(line) for line in export.splitlines()]
    expected_new = sum(1 for i, row in enumerate(rows) if i >= 180 and row["available"])
    # When the benchmark runs the feed on it
    result = _measure(scenario, export, runs=1)
    # Then the new products are the available ones among the last 10%, each with its own rows
    assert result["newProducts"] == expected_new
    assert result["rows"] > expected_new
    assert result["unavailable"] == sum(1 for row in rows if not row["available"])


def test_a_new_shop_treats_every_available_product_as_new() -> None:
    # Given an export and no model yet
    scenario = Scenario("new shop", 120, 3, 0.0)
    export = _export(scenario, random.Random(2))
    available = sum(1 for line in export.splitlines() if json.loads(line)["available"])
    # When the benchmark runs the feed on it
    result = _measure(scenario, export, runs=1)
    # Then every available product is new
    assert result["newProducts"] == available
