"""docs/event-schemas.md is generated from the models, and its schemas agree with them."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from recs.contracts.events import TYPE_REQUIRED_FIELDS, EventType, LakeEvent, ShopEvent
from recs_tools.docgen.event_schemas import EXAMPLES, PII_EXAMPLE, event_type_schema, lake_lines, render
from tests.helpers import EVENTS_DIR

DOC = EVENTS_DIR.parent / "docs" / "event-schemas.md"


def _schema_accepts(event_type: EventType, event: dict[str, Any]) -> bool:
    validator = jsonschema.Draft202012Validator(
        event_type_schema(event_type), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return bool(validator.is_valid(event))


def _model_accepts(event: dict[str, Any]) -> bool:
    try:
        ShopEvent.model_validate(event)
    except ValidationError:
        return False
    return True


def test_the_committed_document_is_what_the_models_generate() -> None:
    # Given the committed document / When the generator renders the models
    # Then they are identical (run `python -m recs_tools.docgen.event_schemas` after changing a model)
    assert DOC.read_text(encoding="utf-8") == render()


def test_every_event_type_has_an_example_that_both_schema_and_model_accept() -> None:
    # Given the examples of the document
    assert set(EXAMPLES) == set(EventType)
    for event_type, example in EXAMPLES.items():
        # Then its own JSON Schema and the pydantic model accept each
        assert _schema_accepts(event_type, example), event_type
        assert _model_accepts(example), event_type


@pytest.mark.parametrize("event_type", list(EventType))
def test_schema_and_model_agree_on_what_is_required(event_type: EventType) -> None:
    # Given the example of a type without each of its required fields, and without any visitor id
    example = EXAMPLES[event_type]
    for name in ["eventId", "eventType", "timestamp", *TYPE_REQUIRED_FIELDS[event_type]]:
        broken = {k: v for k, v in example.items() if k != name}
        # Then both the JSON Schema and the model refuse it
        assert not _schema_accepts(event_type, broken), name
        assert not _model_accepts(broken), name
    anonymous = {k: v for k, v in example.items() if k not in ("userId", "anonId")}
    assert not _schema_accepts(event_type, anonymous)
    assert not _model_accepts(anonymous)


@pytest.mark.parametrize(
    ("field", "value"),
    [("userId", "jane@example.com"), ("quantity", 0), ("context", "x" * 65), ("results", ["a b"])],
)
def test_schema_and_model_agree_on_bad_values(field: str, value: Any) -> None:
    # Given a search example with one bad value / Then both refuse it
    broken = {**EXAMPLES[EventType.SEARCH], field: value}
    assert not _schema_accepts(EventType.SEARCH, broken)
    assert not _model_accepts(broken)


def test_a_type_schema_refuses_another_type() -> None:
    # Given a view example labelled as a purchase / Then the view schema refuses it
    assert not _schema_accepts(EventType.VIEW, {**EXAMPLES[EventType.VIEW], "eventType": "purchase"})


def test_the_lake_example_holds_no_personal_data() -> None:
    # Given the documented lake lines of the PII example
    lines = lake_lines()
    # Then each is a valid lake record and no raw id or personal value appears
    for line in lines:
        LakeEvent.model_validate_json(line)
    text = "\n".join(lines)
    for value in ("user_000001", "sess_8c41", "jane.doe@example.com", "Jane Doe", "203.0.113.7", "555"):
        assert value not in text
    assert PII_EXAMPLE["userId"] == "user_000001"
