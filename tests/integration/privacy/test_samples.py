"""The privacy sample events (events/privacy_*.json) on the local stack, with caller
authorization off (as deployed by default) and on (claims as API Gateway's JWT authorizer passes them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recs_tools.local.auth import LocalIssuer
from recs_tools.local.stack import LocalStack
from tests.helpers import body_of, load_event


@pytest.mark.parametrize(
    ("sample", "status"),
    [
        ("privacy_opt_out", 200),
        ("privacy_opt_in", 200),
        ("privacy_status", 200),
        ("privacy_erasure", 202),
        ("privacy_erasure_with_anonymous_ids", 202),
        ("privacy_erasure_receipt", 404),
        ("privacy_export", 202),
        ("privacy_export_receipt", 404),
        ("privacy_opt_out_authorized", 200),
        ("privacy_opt_out_other_user", 200),  # nobody checks callers while authorization is off
        ("privacy_visitor_id", 201),
        ("privacy_visitor_opt_out", 200),
        ("privacy_visitor_opt_out_forged", 401),
        ("privacy_visitor_status", 200),
        ("privacy_visitor_erasure", 202),
        ("privacy_visitor_erasure_receipt", 404),
        ("privacy_visitor_export", 202),
        ("privacy_visitor_export_receipt", 404),
    ],
)
def test_each_sample_answers_as_documented_with_authorization_off(
    stack: LocalStack, sample: str, status: int
) -> None:
    # Given the default stack / When the privacy function handles the sample
    response = stack.invoke("PrivacyFunction", load_event(sample))
    # Then it answers with the documented status
    assert response["statusCode"] == status, body_of(response)


def test_a_bad_preference_names_the_field(stack: LocalStack) -> None:
    # When the preference is not a boolean / Then 400 naming it
    response = stack.invoke("PrivacyFunction", load_event("privacy_bad_preferences"))
    assert response["statusCode"] == 400
    assert [e["field"] for e in body_of(response)["errors"]] == ["preferences.recommendations"]


def test_the_purge_sample_runs_the_purge_step(stack: LocalStack) -> None:
    # Given a pending erasure / When the purge step runs on its sample payload
    assert stack.invoke("PrivacyFunction", load_event("privacy_erasure"))["statusCode"] == 202
    report = stack.invoke("PurgeFunction", load_event("privacy_purge"))
    # Then it completes it and answers counts only
    assert report["erasuresCompleted"] == 1
    assert all(isinstance(value, int) for value in report.values())


def test_the_export_job_sample_on_an_unknown_receipt_does_nothing(stack: LocalStack) -> None:
    # When the export function gets the sample's receipt id, which no request opened
    report = stack.invoke("ExportFunction", load_event("privacy_export_job"))
    # Then it reports the receipt gone and writes nothing
    assert report["status"] == "gone"
    bucket = stack.physical["ExportBucket"]
    assert stack.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.fixture
def secured_stack() -> Iterator[LocalStack]:
    with (
        LocalIssuer() as issuer,
        LocalStack(parameter_overrides={"LogLevel": "WARNING", **issuer.stack_parameters()}) as stack,
    ):
        yield stack


def test_with_authorization_on_the_function_acts_only_for_the_tokens_subject(
    secured_stack: LocalStack,
) -> None:
    # When API Gateway passes a request of user_000001 for themselves, for user_000002, and one
    # without claims (a route left unprotected by mistake)
    own = secured_stack.invoke("PrivacyFunction", load_event("privacy_opt_out_authorized"))
    other = secured_stack.invoke("PrivacyFunction", load_event("privacy_opt_out_other_user"))
    unchecked = secured_stack.invoke("PrivacyFunction", load_event("privacy_opt_out"))
    # Then only the first is done: 403 for another user, 401 without a verified caller
    assert own["statusCode"] == 200
    assert other["statusCode"] == 403
    assert unchecked["statusCode"] == 401
