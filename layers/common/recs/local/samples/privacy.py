"""Sample requests of the privacy function."""

from __future__ import annotations

from typing import Any

from recs.local.samples.common import api_event

PREFS_ROUTE = "/api/users/{userId}/preferences"


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
        "privacy_status": api_event(
            "GET", "/api/users/user_000001/privacy", "/api/users/{userId}/privacy", path_parameters=user
        ),
    }
