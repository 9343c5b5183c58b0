"""Caller authorization over HTTP, with a local OIDC issuer and API Gateway's JWT authorizer
emulated for the routes template.yaml protects: nobody reads or changes another shopper's data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from recs_tools.local.auth import JwtAuthorizerConfig, LocalIssuer
from recs_tools.local.http import LocalApiServer
from recs_tools.local.http_client import HttpResult, http_call
from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import PSEUDONYMS, RICH_USER, World

OTHER_USER = "user_000002"
PRIVACY_ROUTES = {
    ("PUT", "/api/users/{userId}/preferences"),
    ("GET", "/api/users/{userId}/privacy"),
    ("POST", "/api/users/{userId}/erasure"),
    ("GET", "/api/erasures/{receiptId}"),
    ("POST", "/api/users/{userId}/export"),
    ("GET", "/api/exports/{receiptId}"),
}


@dataclass
class Secured:
    issuer: LocalIssuer
    stack: LocalStack
    api: LocalApiServer

    def get(self, path: str, headers: dict[str, str] | None = None) -> HttpResult:
        return http_call(self.api.url, "GET", path, headers=headers)

    def recommendations(self, headers: dict[str, str] | None = None, **query: str) -> HttpResult:
        return self.get("/api/recommendations?" + urlencode(query), headers)

    def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> HttpResult:
        return http_call(self.api.url, method, path, body, headers=headers)

    def as_user(self, subject: str, **kwargs: Any) -> dict[str, str]:
        return self.issuer.headers(subject, **kwargs)


@pytest.fixture(scope="module")
def secured() -> Iterator[Secured]:
    """A stack with caller authorization on (trusting a local issuer) and the serving test world."""
    with (
        LocalIssuer() as issuer,
        LocalStack(parameter_overrides={"LogLevel": "WARNING", **issuer.stack_parameters()}) as stack,
    ):
        World(stack).publish_everything()
        api = LocalApiServer(stack, port=0).start()
        yield Secured(issuer, stack, api)
        api.stop()


def test_the_template_puts_the_jwt_authorizer_on_the_privacy_routes_only(secured: Secured) -> None:
    # Given a stack whose AuthIssuerUrl is the local issuer / Then exactly the privacy routes are
    # protected by the JWT authorizer (the admin routes keep IAM authorization, tests/integration/rules)
    protected = {
        (r.method, r.path) for r in secured.stack.routes if isinstance(r.authorizer, JwtAuthorizerConfig)
    }
    assert protected == PRIVACY_ROUTES
    authorizer = next(
        r.authorizer for r in secured.stack.routes if isinstance(r.authorizer, JwtAuthorizerConfig)
    )
    assert authorizer.issuer == secured.issuer.url
    assert authorizer.audiences == (secured.issuer.audience,)


def test_a_users_recommendations_need_that_users_token(secured: Secured) -> None:
    # When the rich user's list is asked for without a token, with another user's, and with theirs
    anonymous = secured.recommendations(userId=RICH_USER)
    foreign = secured.recommendations(secured.as_user(OTHER_USER), userId=RICH_USER)
    own = secured.recommendations(secured.as_user(RICH_USER), userId=RICH_USER)
    # Then only their own token gets their (personal) list
    assert anonymous.status == 401
    assert foreign.status == 403
    assert own.status == 200
    assert own.body["source"] == "user"


@pytest.mark.parametrize(
    "token",
    [
        {"expires_in": -60},
        {"audience": "someone-elses-app"},
        {"issuer": "https://evil.example"},
    ],
)
def test_invalid_tokens_get_401(secured: Secured, token: dict[str, Any]) -> None:
    # When a personal list is asked for with an expired token, another audience's or another issuer's
    result = secured.recommendations(secured.as_user(RICH_USER, **token), userId=RICH_USER)
    # Then it is refused as unauthenticated
    assert result.status == 401
    assert {k.lower(): v for k, v in result.headers.items()}["www-authenticate"] == "Bearer"


def test_anonymous_shoppers_need_no_token(secured: Secured) -> None:
    # When an anonymous browser asks (anonId only, or nothing)
    by_anon = secured.recommendations(anonId="anon_e2e_1")
    nobody = secured.recommendations()
    # Then both are served
    assert by_anon.status == 200
    assert nobody.status == 200


def _event(n: int, **who: str) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{n:012d}",
        "eventType": "purchase",
        "timestamp": datetime.now(UTC).isoformat(),
        "productId": "sku_00001",
        **who,
    }


def test_events_about_a_user_need_that_users_token(secured: Secured) -> None:
    # Given purchases about the rich user and about another user, and an anonymous view
    about_rich = [_event(1, userId=RICH_USER)]
    mixed = [_event(2, userId=RICH_USER), _event(3, userId=OTHER_USER), _event(4, anonId="anon_e2e_2")]
    # When they are posted without a token, with the other user's token, and with the rich user's
    anonymous = secured.send("POST", "/api/events", {"events": about_rich})
    foreign = secured.send("POST", "/api/events", {"events": about_rich}, secured.as_user(OTHER_USER))
    own = secured.send("POST", "/api/events", {"events": mixed}, secured.as_user(RICH_USER))
    # Then without a token nothing is taken (401), another user's token only gets a 400 naming userId
    assert anonymous.status == 401
    assert foreign.status == 400
    assert [e["field"] for e in foreign.body["rejected"]] == ["userId"]
    # And with their own token their events and the anonymous one are taken, the other user's not
    assert own.status == 202
    assert own.body["accepted"] == 2
    assert [(r["index"], r["code"]) for r in own.body["rejected"]] == [(1, "not_the_callers_user")]


def test_anonymous_events_need_no_token(secured: Secured) -> None:
    # When an anonymous browser posts a view without any token
    result = secured.send("POST", "/api/events", {"events": [_event(5, anonId="anon_e2e_3")]})
    # Then it is taken
    assert result.status == 202
    assert result.body["accepted"] == 1


def test_a_token_for_one_user_cannot_change_anothers_preferences(secured: Secured) -> None:
    # When someone tries to opt OTHER_USER out with no token, and with RICH_USER's token
    opt_out = {"preferences": {"recommendations": False}}
    path = f"/api/users/{OTHER_USER}/preferences"
    missing = secured.send("PUT", path, opt_out)
    foreign = secured.send("PUT", path, opt_out, headers=secured.as_user(RICH_USER))
    # Then API Gateway refuses the first, the function the second, and nothing changed
    assert missing.status == 401
    assert missing.body == {"message": "Unauthorized"}
    assert foreign.status == 403
    status = secured.get(f"/api/users/{OTHER_USER}/privacy", headers=secured.as_user(OTHER_USER))
    assert status.status == 200
    assert status.body["preferences"] == {"recommendations": True}
    # When OTHER_USER does it with their own token / Then it is done
    own = secured.send("PUT", path, opt_out, headers=secured.as_user(OTHER_USER))
    assert own.status == 200
    assert secured.get(f"/api/users/{OTHER_USER}/privacy", headers=secured.as_user(OTHER_USER)).body[
        "preferences"
    ] == {"recommendations": False}


def test_erasures_and_their_receipts_belong_to_their_subject(secured: Secured) -> None:
    # When another user asks to erase user_000003, then user_000003 does
    path = "/api/users/user_000003/erasure"
    foreign = secured.send("POST", path, headers=secured.as_user(RICH_USER))
    own = secured.send("POST", path, headers=secured.as_user("user_000003"))
    # Then only their own request is accepted
    assert foreign.status == 403
    assert own.status == 202
    receipt_path = f"/api/erasures/{own.body['receiptId']}"
    # And only they can read the receipt
    assert secured.get(receipt_path).status == 401
    assert secured.get(receipt_path, headers=secured.as_user(RICH_USER)).status == 403
    mine = secured.get(receipt_path, headers=secured.as_user("user_000003"))
    assert mine.status == 200
    assert mine.body["status"] == "pending"


def test_an_export_is_requested_fetched_and_downloaded_by_its_user_only(secured: Secured) -> None:
    # Given events of the rich user, posted with their token
    events = [_event(20, userId=RICH_USER), _event(21, userId=RICH_USER, anonId="anon_e2e_export")]
    assert secured.send("POST", "/api/events", {"events": events}, secured.as_user(RICH_USER)).status == 202
    path = f"/api/users/{RICH_USER}/export"
    # When another user asks for the rich user's export, and nobody does without a token
    assert secured.send("POST", path, headers=secured.as_user(OTHER_USER)).status == 403
    assert secured.send("POST", path).status == 401
    # When the rich user asks
    accepted = secured.send("POST", path, headers=secured.as_user(RICH_USER))
    # Then a receipt, with its location
    assert accepted.status == 202
    location = {k.lower(): v for k, v in accepted.headers.items()}["location"]
    assert location == f"/api/exports/{accepted.body['receiptId']}"
    # And another user is told the receipt does not exist; nobody without a token gets in
    assert secured.get(location, headers=secured.as_user(OTHER_USER)).status == 404
    assert secured.get(location).status == 401
    # And the user gets a short-lived URL, not to be cached, and downloads their data with it
    # (moto's S3 answers the presigned URL inside this process, through `requests`)
    ready = secured.get(location, headers=secured.as_user(RICH_USER))
    assert ready.status == 200
    assert ready.body["status"] == "ready"
    assert {k.lower(): v for k, v in ready.headers.items()}["cache-control"] == "no-store"
    download = requests.get(ready.body["url"], timeout=10)
    assert download.status_code == 200
    document = download.json()
    # (the module's stack also holds the rich user's events of the tests above)
    exported = {e["eventId"] for e in document["events"]}
    assert {e["eventId"] for e in events} <= exported
    mine = (PSEUDONYMS.user(RICH_USER), PSEUDONYMS.anon("anon_e2e_export"))
    assert all(e.get("userId") == mine[0] or e.get("anonId") == mine[1] for e in document["events"])
    assert [i["productId"] for i in document["lists"]["personal"]] == [f"sku_{n:05d}" for n in range(45, 55)]
    assert {i["reason"] for i in document["lists"]["personal"]} == {"similar-users"}
    assert document["subject"]["linkedAnonymousPseudonyms"] == [PSEUDONYMS.anon("anon_e2e_export")]


def test_an_anonymous_visitor_opts_out_and_erases_with_the_signed_id_and_nobody_else_can(
    secured: Secured,
) -> None:
    # Given caller authorization on: the anonymous visitor's routes need no token, only the signed id
    issued = secured.send("POST", "/api/visitors")
    other = secured.send("POST", "/api/visitors").body["anonId"]
    assert issued.status == 201, issued.body
    assert {k.lower(): v for k, v in issued.headers.items()}["cache-control"] == "no-store"
    anon_id = issued.body["anonId"]
    holder = {"X-Recs-Visitor": anon_id}
    forged = {"X-Recs-Visitor": anon_id[:-1] + ("A" if anon_id[-1] != "A" else "B")}
    opt_out = {"preferences": {"recommendations": False}}

    # When a forged id, an unsigned one or none at all tries to opt the visitor out
    for headers in (forged, {"X-Recs-Visitor": "a_3f2b8c1e-0d4a-4b6e-9f1a-2c3d4e5f6a7b"}, {}):
        refused = secured.send("PUT", "/api/visitor/preferences", opt_out, headers)
        # Then 401, naming the header
        assert refused.status == 401, refused.body
        assert [e["field"] for e in refused.body["errors"]] == ["X-Recs-Visitor"]

    # When the holder opts out
    done = secured.send("PUT", "/api/visitor/preferences", opt_out, holder)
    # Then it is stored for that id only
    assert done.status == 200, done.body
    assert secured.get("/api/visitor/privacy", holder).body["preferences"] == {"recommendations": False}
    assert secured.get("/api/visitor/privacy", {"X-Recs-Visitor": other}).body["preferences"] == {
        "recommendations": True
    }
    # And the visitor's recommendations are what a shopper without any id gets
    assert (
        secured.recommendations(anonId=anon_id).body["products"] == secured.recommendations().body["products"]
    )

    # When the holder asks for erasure
    accepted = secured.send("POST", "/api/visitor/erasure", None, holder)
    # Then 202 with a receipt only the holder can read (another visitor 404, a forged id 401)
    assert accepted.status == 202, accepted.body
    location = {k.lower(): v for k, v in accepted.headers.items()}["location"]
    assert location == f"/api/visitor/erasures/{accepted.body['receiptId']}"
    assert secured.get(location, holder).body["status"] == "pending"
    assert secured.get(location, {"X-Recs-Visitor": other}).status == 404
    assert secured.get(location, forged).status == 401
    assert secured.get(location).status == 401
    # And a shopper's token does not open the visitor's routes (they ask for the signed id)
    assert secured.get("/api/visitor/privacy", secured.as_user(RICH_USER)).status == 401
    # And the id never appears in an answer other than the one that issued it
    assert anon_id not in str(accepted.body) + str(done.body)


def test_an_anonymous_visitor_exports_their_data_with_the_signed_id_and_nobody_else_can(
    secured: Secured,
) -> None:
    # Given caller authorization on, a signed id with anonymous events and one made signed in as
    # the rich user on that browser (the user's: never in the visitor's export), and another id
    anon_id = secured.send("POST", "/api/visitors").body["anonId"]
    other = {"X-Recs-Visitor": secured.send("POST", "/api/visitors").body["anonId"]}
    holder = {"X-Recs-Visitor": anon_id}
    forged = {"X-Recs-Visitor": anon_id[:-1] + ("A" if anon_id[-1] != "A" else "B")}
    anonymous = [_event(40, anonId=anon_id), _event(41, anonId=anon_id)]
    signed_in = [_event(42, userId=RICH_USER, anonId=anon_id)]
    assert secured.send("POST", "/api/events", {"events": anonymous}).status == 202
    assert (
        secured.send("POST", "/api/events", {"events": signed_in}, secured.as_user(RICH_USER)).status == 202
    )

    # When a forged id or none asks for an export, or a shopper's token without the signed id
    for headers in (forged, {}, secured.as_user(RICH_USER)):
        refused = secured.send("POST", "/api/visitor/export", None, headers)
        # Then 401, naming the header
        assert refused.status == 401, refused.body
        assert [e["field"] for e in refused.body["errors"]] == ["X-Recs-Visitor"]

    # When the holder asks
    accepted = secured.send("POST", "/api/visitor/export", None, holder)
    # Then a receipt, with its location on the visitor's route
    assert accepted.status == 202, accepted.body
    location = {k.lower(): v for k, v in accepted.headers.items()}["location"]
    assert location == f"/api/visitor/exports/{accepted.body['receiptId']}"
    # And another id is told it does not exist, a forged id or none is refused, and neither the
    # rich user's token nor the user route opens it
    assert secured.get(location, other).status == 404
    assert secured.get(location, forged).status == 401
    assert secured.get(location).status == 401
    assert secured.get(location, secured.as_user(RICH_USER)).status == 401
    user_route = f"/api/exports/{accepted.body['receiptId']}"
    assert secured.get(user_route, secured.as_user(RICH_USER)).status == 404
    # And the holder gets a short-lived URL, not to be cached, and downloads the id's own data
    ready = secured.get(location, holder)
    assert (ready.status, ready.body["status"]) == (200, "ready")
    assert {k.lower(): v for k, v in ready.headers.items()}["cache-control"] == "no-store"
    download = requests.get(ready.body["url"], timeout=10)
    assert download.status_code == 200
    document = download.json()
    assert document["subject"] == {"anonymousPseudonym": PSEUDONYMS.anon(anon_id)}
    assert sorted(e["eventId"] for e in document["events"]) == sorted(e["eventId"] for e in anonymous)
    assert PSEUDONYMS.user(RICH_USER) not in download.text
    assert anon_id not in download.text + str(accepted.body) + str(ready.body)
