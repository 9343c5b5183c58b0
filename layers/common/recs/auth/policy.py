"""The one rule of caller authorization, and where each route applies it.

When enabled, a request about user X must come from a caller whose verified subject is X:
401 without a usable token, 403 with a token of someone else. Requests about nobody in
particular (anonymous recommendations by ``anonId``) need no token.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from recs.auth.caller import Caller, bearer_token, caller_from_claims
from recs.auth.errors import IssuerUnavailableError, UnauthorizedError
from recs.errors import ForbiddenError, NotFoundError


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Caller:
        """The caller a token speaks for.

        Raises `UnauthorizedError` for a token that is not valid, `IssuerUnavailableError`
        when the issuer's keys cannot be had.
        """
        ...


@dataclass(frozen=True)
class Admission:
    """Whose recommendations a request may have.

    Attributes
    ----------
    user_id
        The user id to personalize for, or None (anonymous: ``anonId`` only).
    unverified
        True when a ``userId`` was dropped because no token could be checked (issuer down): the
        request is served without it, as an anonymous one, rather than failing.
    """

    user_id: str | None
    unverified: bool = False


class SubjectPolicy:
    """Decides whether a caller may act for a user.

    Parameters
    ----------
    enabled
        False when no issuer is configured: everything is allowed (the API is open, as before).
    subject_claim
        The claim naming the shop's user id (``sub``, or e.g. a custom attribute of the pool).
    verifier
        Checks bearer tokens for the routes API Gateway does not protect (recommendations).
    """

    def __init__(
        self, *, enabled: bool, subject_claim: str = "sub", verifier: TokenVerifier | None = None
    ) -> None:
        self.enabled = enabled
        self.subject_claim = subject_claim
        self._verifier = verifier

    @classmethod
    def disabled(cls) -> SubjectPolicy:
        return cls(enabled=False)

    def gateway_caller(self, claims: Mapping[str, Any] | None) -> Caller | None:
        """The caller API Gateway's JWT authorizer verified, from the claims it passed on."""
        return caller_from_claims(claims, self.subject_claim)

    def require(self, caller: Caller | None, user_id: str) -> None:
        """Allow only `user_id` itself: 401 without a caller, 403 for anyone else."""
        self.require_owner(caller, lambda subject: subject == user_id)

    def require_owner(
        self, caller: Caller | None, owns: Callable[[str], bool], *, hide: bool = False
    ) -> None:
        """Allow only a caller for whom ``owns(subject)`` holds (e.g. the subject of a receipt).

        With `hide`, anyone else is told the thing does not exist (404 instead of 403), so that
        a guessed or leaked id does not reveal that it is someone's.
        """
        if not self.enabled:
            return
        if caller is None:
            raise UnauthorizedError("a bearer token of the shop's identity provider is required")
        if not owns(caller.subject):
            if hide:
                raise NotFoundError("no such receipt")
            raise ForbiddenError("the token does not belong to this user")

    def bearer_caller(self, headers: Mapping[str, str] | None) -> Caller:
        """The caller a request's bearer token speaks for (ingest: events about a user).

        Raises `UnauthorizedError` without a valid token and `IssuerUnavailableError` when no
        token can be checked now (the client keeps its events and retries: nothing is lost).
        """
        token = bearer_token(headers)
        if token is None:
            raise UnauthorizedError("events with userId need a bearer token of that user")
        if self._verifier is None:
            raise IssuerUnavailableError("no token verifier is configured")
        return self._verifier.verify(token)

    def admit(self, user_id: str | None, headers: Mapping[str, str] | None) -> Admission:
        """Check a recommendations request: a ``userId`` needs a bearer token of that user.

        An anonymous request is admitted without looking at any token. When the issuer cannot be
        reached, the request is served as an anonymous one (``unverified``): personal lists are
        never served to an unchecked caller, and the page still gets recommendations.
        """
        if not self.enabled or user_id is None:
            return Admission(user_id)
        token = bearer_token(headers)
        if token is None:
            raise UnauthorizedError("userId needs a bearer token of that user")
        try:
            if self._verifier is None:
                raise IssuerUnavailableError("no token verifier is configured")
            caller = self._verifier.verify(token)
        except IssuerUnavailableError:
            return Admission(None, unverified=True)
        self.require(caller, user_id)
        return Admission(user_id)
