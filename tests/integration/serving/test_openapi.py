"""docs/openapi.json is what the handlers' own Powertools resolvers generate."""

from __future__ import annotations

import json
import re

from recs_tools.checkout import repo_root
from recs_tools.docgen.openapi import generate, render, spec_path
from recs_tools.local.stack import LocalStack


def test_the_committed_spec_is_what_the_code_generates(stack: LocalStack) -> None:
    # Given the functions behind the template's HTTP routes
    # When their resolvers describe themselves
    generated = render(generate(stack))
    # Then docs/openapi.json says exactly that (regenerate: python -m recs_tools.docgen.openapi)
    committed = spec_path(repo_root()).read_text(encoding="utf-8")
    assert committed == generated, "docs/openapi.json is out of date: run python -m recs_tools.docgen.openapi"


def test_every_template_route_is_in_the_spec(stack: LocalStack) -> None:
    # Given the committed spec
    spec = json.loads(spec_path(repo_root()).read_text(encoding="utf-8"))
    documented = {
        (method.upper(), re.sub(r"\{\w+\}", "{}", path))
        for path, item in spec["paths"].items()
        for method in item
    }
    # Then every route of template.yaml is documented (path parameter names aside)
    routes = {(r.method, re.sub(r"\{\w+\}", "{}", r.path)) for r in stack.routes}
    assert routes <= documented


def test_the_recommendations_route_documents_its_parameters_and_400_not_422() -> None:
    # Given the committed spec
    spec = json.loads(spec_path(repo_root()).read_text(encoding="utf-8"))
    operation = spec["paths"]["/api/recommendations"]["get"]
    # Then every query parameter is typed, and validation errors are documented as 400
    names = {p["name"] for p in operation["parameters"]}
    assert names == {
        "userId",
        "anonId",
        "limit",
        "context",
        "productId",
        "currentProductId",
        "cartProductIds",
        "category",
        "categories",
        "exclude",
        "brand",
        "tag",
        "minPrice",
        "maxPrice",
    }
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 10)
    for name in ("minPrice", "maxPrice"):
        price = next(p for p in operation["parameters"] if p["name"] == name)["schema"]
        assert {"type": "number", "minimum": 0} in price["anyOf"]
    assert set(operation["responses"]) == {"200", "400", "404", "503"}
    assert "HTTPValidationError" not in json.dumps(spec)
