"""One policy for the pseudonym key in every function: fetched on first use, never at cold
start. With Secrets Manager down, each function still initialises; a request that needs a
pseudonym is answered 503 with Retry-After (nothing is stored half-way, the client resends),
and the same container serves once the key can be had again."""

from __future__ import annotations

from unittest import mock

import pytest

from recs.adapters.secrets import SecretsManagerSource
from recs.errors import StoreUnavailableError
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event


def _down(self: SecretsManagerSource, secret_id: str) -> bytes:
    raise StoreUnavailableError("secrets manager: EndpointConnectionError")


@pytest.mark.parametrize(
    ("function", "sample"),
    [
        ("IngestFunction", "ingest_view"),
        ("PrivacyFunction", "privacy_status"),
        ("PrivacyFunction", "privacy_opt_out"),
    ],
)
def test_with_secrets_manager_down_a_fresh_container_answers_503_then_recovers(
    stack: LocalStack, function: str, sample: str
) -> None:
    # Given a fresh container of the function while Secrets Manager is unreachable
    stack.function(function)._handler = None
    with mock.patch.object(SecretsManagerSource, "get_secret", _down):
        # When a request that needs a pseudonym arrives
        refused = stack.invoke(function, load_event(sample))
    # Then the container initialised, and the request is refused for now, with a retry hint
    assert refused["statusCode"] == 503, refused
    assert "retry-after" in {key.lower() for key in refused["headers"]}
    assert body_of(refused)["message"]
    # When the key can be had again, after the retry pause (skipped here)
    stack.function(function).module.service._pseudonyms._failed_at = float("-inf")
    answered = stack.invoke(function, load_event(sample))
    # Then the same container serves it
    assert answered["statusCode"] < 300, answered
