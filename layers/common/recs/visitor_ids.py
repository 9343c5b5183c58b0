"""Signed anonymous ids: the API issues them, and only their holder can exercise rights with one.

An anonymous visitor has no account, so the id itself is the credential: ``v1.<id>.<tag>``,
where ``<id>`` is 128 random bits and ``<tag>`` the first 128 bits of HMAC-SHA256 over
``v1.<id>`` under a key derived from the pseudonym secret (`Pseudonymizer.derived_key`, label
``anon-id-signing``), both base64url without padding (48 characters in all, a valid
``anonId`` of the event and recommendation contracts). Nobody can make an id the API would
accept without the key, and guessing a random one that somebody holds is hopeless (2^128).

Ids the tracker made itself (``a_<uuid>``, older trackers) are still accepted by ingest and
serving, but they prove nothing, so the privacy routes refuse them (`VisitorIdError`, 401).
The id is a bearer secret: the privacy routes take it in a header, events in their body and
recommendations as the ``anonId`` query parameter (never a path); it is never logged, and only
its pseudonym is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

from recs.errors import InvalidRequestError

#: The header the holder presents the id in (never the URL: paths and query strings are logged).
VISITOR_HEADER = "X-Recs-Visitor"
SIGNING_LABEL = b"anon-id-signing"
VERSION = "v1"
_RANDOM_BYTES = 16
_TAG_BYTES = 16
_PART = r"[A-Za-z0-9_-]{22}"
SIGNED_ID_PATTERN = rf"^{VERSION}\.{_PART}\.{_PART}$"
_SIGNED_ID = re.compile(SIGNED_ID_PATTERN)


class VisitorIdError(InvalidRequestError):
    """A privacy route for anonymous visitors got no signed id, or one the API did not issue (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "a signed anonymous id (from POST /api/visitors) is required",
            {VISITOR_HEADER: reason},
            status=401,
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class VisitorIds:
    """Issues and verifies signed anonymous ids.

    Parameters
    ----------
    signing_key
        Called on first use (the pseudonym key is fetched lazily, never at cold start);
        raises `StoreUnavailableError` while it cannot be had (503).
    token_bytes
        The randomness source (tests pass a seeded one).
    """

    def __init__(
        self,
        signing_key: Callable[[], bytes],
        token_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._signing_key = signing_key
        self._token_bytes = token_bytes
        self._key: bytes | None = None

    def _tag(self, body: str) -> str:
        if self._key is None:
            self._key = self._signing_key()
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:_TAG_BYTES])

    def issue(self) -> str:
        """A new signed anonymous id."""
        body = f"{VERSION}.{_b64(self._token_bytes(_RANDOM_BYTES))}"
        return f"{body}.{self._tag(body)}"

    def is_signed(self, value: str) -> bool:
        """True for an id this API issued (constant-time comparison of the tag)."""
        if not _SIGNED_ID.fullmatch(value):
            return False
        body, _, tag = value.rpartition(".")
        return hmac.compare_digest(self._tag(body), tag)

    def verify(self, value: str | None) -> str:
        """The id itself when it is one this API issued.

        Raises
        ------
        VisitorIdError
            Missing, not of the signed form (e.g. an old tracker's ``a_<uuid>``), or a signature
            that does not match (forged, altered, or issued under another key): 401 naming the header.
        """
        if not value:
            raise VisitorIdError("is missing")
        if not _SIGNED_ID.fullmatch(value):
            raise VisitorIdError(
                "is not a signed anonymous id (v1.<id>.<signature>); get one from POST /api/visitors"
            )
        if not self.is_signed(value):
            raise VisitorIdError("has an invalid signature")
        return value
