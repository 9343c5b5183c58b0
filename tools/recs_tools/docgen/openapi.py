"""The OpenAPI spec of every HTTP route, generated from the handlers' own Powertools resolvers.

Each function behind an `HttpApi` route in template.yaml is loaded as the local stack loads it
(its module, its environment, moto standing in for AWS), its resolver describes its routes
(`get_openapi_json_schema`), and Powertools' `OpenAPIMerge` joins them into one document. The
committed copy is docs/openapi.json; a test regenerates it and fails when they disagree.

    python -m recs_tools.docgen.openapi            # rewrite docs/openapi.json
    python -m recs_tools.docgen.openapi --check    # exit 1 when docs/openapi.json is out of date

Powertools always documents its default 422 for validated routes; this API answers 400 instead
(recs.api.errors), so the 422 entries and the schemas only they used are dropped.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recs_tools.local.stack import LocalStack

TITLE = "Personalized recommendations API"
VERSION = "1"
DESCRIPTION = (
    "Recommendations, events and privacy routes of the shop's recommendation service "
    "(contract: docs/architecture.md, The contracts). Errors share one shape: "
    '{"message": ..., "errors": [{"field": ..., "reason": ...}]}.'
)
_POWERTOOLS_VALIDATION_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def generate(stack: LocalStack) -> dict[str, Any]:
    """The merged spec of the HTTP functions of `stack` (a started local stack)."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    merge = OpenAPIMerge(title=TITLE, version=VERSION, description=DESCRIPTION, on_conflict="error")
    for logical_id in sorted({route.function for route in stack.routes}):
        resolver: Any = getattr(stack.function(logical_id).module, "app", None)
        try:
            schema = json.loads(resolver.get_openapi_json_schema(title=TITLE, version=VERSION))
            why = "its handler does not serve this route yet"
        except Exception as exc:  # a handler Powertools cannot describe must not hide the others
            schema = {"paths": {}}
            why = f"its handler does not describe itself to Powertools yet ({type(exc).__name__})"
        merge.add_schema(schema)
        merge.add_schema(_undescribed_routes(stack, logical_id, schema, why))
    return _answer_400_not_422(_query_models_in_full(merge.get_openapi_schema()))


def _undescribed_routes(
    stack: LocalStack, logical_id: str, schema: dict[str, Any], why: str
) -> dict[str, Any]:
    """template.yaml's routes of the function that its resolver did not describe, saying why."""
    described = {
        (method.upper(), re.sub(r"\{\w+\}", "{}", path))
        for path, item in schema.get("paths", {}).items()
        for method in item
    }
    paths: dict[str, Any] = {}
    for route in (r for r in stack.routes if r.function == logical_id):
        if (route.method, re.sub(r"\{\w+\}", "{}", route.path)) in described:
            continue
        paths.setdefault(route.path, {})[route.method.lower()] = {
            "summary": f"{route.method} {route.path}",
            "description": f"Declared in template.yaml for {logical_id}; {why}.",
            "responses": {"default": {"description": "See docs/architecture.md, The contracts."}},
        }
    return {"paths": paths}


def _query_models_in_full(spec: dict[str, Any]) -> dict[str, Any]:
    """Each query parameter taken from a model (`recs.serving.query.RecommendationParameters`)
    with the schema its model gives it.

    Powertools lists a model's fields as query parameters but types each by its bare type (a
    pattern, bounds and the null alternative are lost) and adds the model, unreferenced, to the
    components. The field's schema is put back on its parameter, and the model removed.
    """
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    outside = json.dumps({k: v for k, v in spec.items() if k != "components"})
    referenced_inside = json.dumps(schemas)
    models = {
        name: schema["properties"]
        for name, schema in schemas.items()
        if "properties" in schema
        and f'"#/components/schemas/{name}"' not in outside
        and f'"#/components/schemas/{name}"' not in referenced_inside
    }
    used: set[str] = set()
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query" or set(parameter.get("schema", {})) - {"type"}:
                    continue  # a parameter of its own, already described in full
                for name, properties in models.items():
                    if parameter["name"] in properties:
                        parameter["schema"] = properties[parameter["name"]]
                        used.add(name)
                        break
    for name in used:
        del schemas[name]
    return spec


def _answer_400_not_422(spec: dict[str, Any]) -> dict[str, Any]:
    for path_item in spec.get("paths", {}).values():
        for operation in path_item.values():
            operation.get("responses", {}).pop("422", None)
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    removed = True
    while removed:  # until no Powertools validation schema is left unreferenced
        removed = False
        for name in [n for n in _POWERTOOLS_VALIDATION_SCHEMAS if n in schemas]:
            others = {k: v for k, v in spec.items() if k != "components"}
            others["schemas"] = {n: v for n, v in schemas.items() if n != name}
            if f'"#/components/schemas/{name}"' not in json.dumps(others):
                del schemas[name]
                removed = True
    return spec


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def spec_path(root: Path) -> Path:
    return root / "docs" / "openapi.json"


def main(argv: list[str]) -> int:
    from recs_tools.checkout import repo_root
    from recs_tools.local.stack import LocalStack

    root = repo_root()
    with LocalStack(parameter_overrides={"LogLevel": "WARNING"}, use_redis=False) as stack:
        text = render(generate(stack))
    target = spec_path(root)
    if "--check" in argv:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: run python -m recs_tools.docgen.openapi", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
