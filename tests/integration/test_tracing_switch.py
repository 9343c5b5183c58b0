"""Every function honours POWERTOOLS_TRACE_DISABLED with a Tracer that records and opens nothing."""

from __future__ import annotations

import pytest

from recs.api.tracing import NoTracing, make_tracer
from recs.config.common import FunctionSettings
from recs_tools.local.stack import LocalStack

FUNCTIONS = (
    "RecommendFunction",
    "IngestFunction",
    "PrivacyFunction",
    "PurgeFunction",
    "ExportFunction",
    "PrepareFunction",
    "TrainFunction",
)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_with_tracing_disabled_builds_no_xray_recorder(stack: LocalStack, logical_id: str) -> None:
    # Given a function of template.yaml in the local stack, which disables tracing
    function = stack.function(logical_id)
    assert function.environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    # When its handler module is imported, as a cold start does
    function.load()
    # Then its Tracer has the provider that does nothing: no X-Ray recorder, no sampler client,
    # no emitter socket (which plain `Tracer()` builds even when disabled)
    assert isinstance(function.module.tracer.provider, NoTracing)


def test_tracing_is_on_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no POWERTOOLS_TRACE_DISABLED, as in the deployed template
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    # When a function reads its settings / Then tracing stays on; switched off, nothing is recorded
    assert FunctionSettings().powertools_trace_disabled is False
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert FunctionSettings().powertools_trace_disabled is True
    assert isinstance(make_tracer(disabled=True).provider, NoTracing)
