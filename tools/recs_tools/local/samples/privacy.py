"""Sample requests of the privacy function and of the purge step."""

from __future__ import annotations

from typing import Any

from recs.pseudonyms import Pseudonymizer
from recs.visitor_ids import SIGNING_LABEL, VISITOR_HEADER, VisitorIds
from recs_tools.local.samples.common import FIXED_EPOCH_MS, api_event
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY

PREFS_ROUTE = "/api/users/{userId}/preferences"
ERASURE_ROUTE = "/api/users/{userId}/erasure"
RECEIPT_ROUTE = "/api/erasures/{receiptId}"
EXPORT_ROUTE = "/api/users/{userId}/export"
EXPORT_RECEIPT_ROUTE = "/api/exports/{receiptId}"
SAMPLE_RECEIPT_ID = "0123456789abcdef0123456789abcdef"
VISITOR_RECEIPT_ROUTE = "/api/visitor/erasures/{receiptId}"
VISITOR_EXPORT_RECEIPT_ROUTE = "/api/visitor/exports/{receiptId}"


def sample_visitor_id() -> str:
    """A signed anonymous id as the local stack issues it (its key is the local-only pseudonym
    key; a deployed stack refuses it), with fixed randomness so that the samples do not change."""
    key = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode()).derived_key(SIGNING_LABEL)
    return VisitorIds(lambda: key, token_bytes=lambda n: bytes(range(n))).issue()


def _visitor_samples() -> dict[str, dict[str, Any]]:
    holder = {VISITOR_HEADER: sample_visitor_id()}
    good = sample_visitor_id()
    forged = {VISITOR_HEADER: good[:-1] + ("A" if good[-1] != "A" else "B")}
    opt_out = {"preferences": {"recommendations": False}}
    return {
        "privacy_visitor_id": api_event("POST", "/api/visitors", "/api/visitors"),
        "privacy_visitor_opt_out": api_event(
            "PUT", "/api/visitor/preferences", "/api/visitor/preferences", body=opt_out, headers=holder
        ),
        "privacy_visitor_opt_out_forged": api_event(
            "PUT", "/api/visitor/preferences", "/api/visitor/preferences", body=opt_out, headers=forged
        ),
        "privacy_visitor_status": api_event(
            "GET", "/api/visitor/privacy", "/api/visitor/privacy", headers=holder
        ),
        "privacy_visitor_erasure": api_event(
            "POST", "/api/visitor/erasure", "/api/visitor/erasure", headers=holder
        ),
        "privacy_visitor_export": api_event(
            "POST", "/api/visitor/export", "/api/visitor/export", headers=holder
        ),
        "privacy_visitor_export_receipt": api_event(
            "GET",
            f"/api/visitor/exports/{SAMPLE_RECEIPT_ID}",
            VISITOR_EXPORT_RECEIPT_ROUTE,
            path_parameters={"receiptId": SAMPLE_RECEIPT_ID},
            headers=holder,
        ),
        "privacy_visitor_erasure_receipt": api_event(
            "GET",
            f"/api/visitor/erasures/{SAMPLE_RECEIPT_ID}",
            VISITOR_RECEIPT_ROUTE,
            path_parameters={"receiptId": SAMPLE_RECEIPT_ID},
            headers=holder,
        ),
    }


def _as_caller(event: dict[str, Any], subject: str) -> dict[str, Any]:
    """What API Gateway's JWT authorizer adds to a request it let through (claims as strings)."""
    event["headers"]["authorization"] = "Bearer <token verified by API Gateway>"
    issued = FIXED_EPOCH_MS // 1000
    event["requestContext"]["authorizer"] = {
        "jwt": {
            "claims": {
                "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE",
                "sub": subject,
                "aud": "example-app-client-id",
                "iat": str(issued),
                "exp": str(issued + 3600),
            },
            "scopes": None,
        }
    }
    return event


def samples() -> dict[str, dict[str, Any]]:
    user = {"userId": "user_000001"}
    return {
        "privacy_opt_out": api_event(
            "PUT",
            "/api/users/user_000001/preferences",
            PREFS_ROUTE,
            body={"preferences": {"recommendations": False}},
            path_parameters=user,
        ),
        "privacy_opt_in": api_event(
            "PUT",
            "/api/users/user_000001/preferences",
            PREFS_ROUTE,
            body={"preferences": {"recommendations": True}},
            path_parameters=user,
        ),
        "privacy_bad_preferences": api_event(
            "PUT",
            "/api/users/user_000001/preferences",
            PREFS_ROUTE,
            body={"preferences": {"recommendations": "maybe"}},
            path_parameters=user,
        ),
        "privacy_status": api_event(
            "GET", "/api/users/user_000001/privacy", "/api/users/{userId}/privacy", path_parameters=user
        ),
        "privacy_erasure": api_event(
            "POST", "/api/users/user_000001/erasure", ERASURE_ROUTE, path_parameters=user
        ),
        "privacy_erasure_with_anonymous_ids": api_event(
            "POST",
            "/api/users/user_000001/erasure",
            ERASURE_ROUTE,
            body={"anonIds": ["anon_sample_1"]},
            path_parameters=user,
        ),
        "privacy_erasure_receipt": api_event(
            "GET",
            f"/api/erasures/{SAMPLE_RECEIPT_ID}",
            RECEIPT_ROUTE,
            path_parameters={"receiptId": SAMPLE_RECEIPT_ID},
        ),
        # With caller authorization on: what reaches the function after API Gateway's JWT
        # authorizer accepted a token of user_000001 (for their own and for another user's data).
        "privacy_opt_out_authorized": _as_caller(
            api_event(
                "PUT",
                "/api/users/user_000001/preferences",
                PREFS_ROUTE,
                body={"preferences": {"recommendations": False}},
                path_parameters=user,
            ),
            "user_000001",
        ),
        "privacy_opt_out_other_user": _as_caller(
            api_event(
                "PUT",
                "/api/users/user_000002/preferences",
                PREFS_ROUTE,
                body={"preferences": {"recommendations": False}},
                path_parameters={"userId": "user_000002"},
            ),
            "user_000001",
        ),
        "privacy_export": api_event(
            "POST", "/api/users/user_000001/export", EXPORT_ROUTE, path_parameters=user
        ),
        "privacy_export_receipt": api_event(
            "GET",
            f"/api/exports/{SAMPLE_RECEIPT_ID}",
            EXPORT_RECEIPT_ROUTE,
            path_parameters={"receiptId": SAMPLE_RECEIPT_ID},
        ),
        # What the privacy function sends the export function (asynchronously): the receipt only.
        "privacy_export_job": {"receiptId": SAMPLE_RECEIPT_ID},
        # The purge step of the training workflow (PurgeFunction), as Step Functions invokes it.
        "privacy_purge": {"step": "purge", "executionName": "sample-execution"},
        # An anonymous visitor's rights: the signed anonymous id in X-Recs-Visitor.
        **_visitor_samples(),
    }
