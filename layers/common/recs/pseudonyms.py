"""Keyed-hash pseudonyms for user, anonymous and session ids.

HMAC-SHA256 under a secret key, namespaced per id kind so that the same string used as a
user id and as an anonymous id does not collide, truncated to 128 bits (collisions are
negligible at any shop's scale). Without the key a pseudonym cannot be linked back to the raw
id by brute force over likely ids, which a plain hash would allow.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from recs.errors import StoreUnavailableError

USER_PREFIX = "u_"
ANON_PREFIX = "a_"
SESSION_PREFIX = "s_"
_MIN_KEY_BYTES = 16


class Pseudonyms(Protocol):
    """What domain code needs of pseudonymisation (`Pseudonymizer`, or `LazyPseudonymizer`)."""

    def user(self, raw: str) -> str: ...

    def anon(self, raw: str) -> str: ...

    def session(self, raw: str) -> str: ...

    def tombstone(self, pseudonym: str) -> str: ...


class Pseudonymizer:
    """Maps raw identifiers to stable pseudonyms: the same raw id always gives the same pseudonym."""

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"the pseudonym key must be at least {_MIN_KEY_BYTES} bytes")
        self._key = key
        # Shoppers repeat: a small memo saves the HMAC on hot ids within one warm container.
        self.user = lru_cache(maxsize=65_536)(self._user)
        self.anon = lru_cache(maxsize=65_536)(self._anon)
        self.session = lru_cache(maxsize=65_536)(self._session)

    def _digest(self, kind: bytes, raw: str) -> str:
        return hmac.new(self._key, kind + b"\x00" + raw.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _user(self, raw: str) -> str:
        return USER_PREFIX + self._digest(b"user", raw)

    def _anon(self, raw: str) -> str:
        return ANON_PREFIX + self._digest(b"anon", raw)

    def _session(self, raw: str) -> str:
        return SESSION_PREFIX + self._digest(b"session", raw)

    def derived_key(self, label: bytes) -> bytes:
        """A key of its own for another purpose (e.g. signing anonymous ids), derived from this
        one under `label`: one secret to keep, and nothing signed under it is a pseudonym."""
        return hmac.new(self._key, b"derive\x00" + label, hashlib.sha256).digest()

    def tombstone(self, pseudonym: str) -> str:
        """A second, different keyed hash of a pseudonym.

        Erasure records keep this instead of the pseudonym, so that the erased shopper can be
        recognised (and excluded) in old data without the pseudonym itself being stored.
        """
        return "t_" + self._digest(b"erased", pseudonym)


class LazyPseudonymizer:
    """A `Pseudonymizer` whose key comes from `load_key` the first time one is needed.

    The one policy of every function for the pseudonym key at cold start: nothing is fetched
    while the container initialises, so a Secrets Manager outage never fails an init (which
    Lambda would retry on every request, answering 502s). A request that needs a pseudonym
    while the key cannot be had raises `StoreUnavailableError` (recommend serves
    non-personalized lists, ingest and privacy answer 503 with Retry-After, a training step is
    retried), and a failed load is retried after `retry_after_seconds`, not on every request.
    """

    def __init__(
        self,
        load_key: Callable[[], bytes],
        *,
        retry_after_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_key = load_key
        self._retry_after = retry_after_seconds
        self._monotonic = monotonic
        self._pseudonymizer: Pseudonymizer | None = None
        self._failed_at = float("-inf")

    def _get(self) -> Pseudonymizer:
        if self._pseudonymizer is None:
            if self._monotonic() - self._failed_at < self._retry_after:
                raise StoreUnavailableError("the pseudonym key is unavailable")
            try:
                self._pseudonymizer = Pseudonymizer(self._load_key())
            except StoreUnavailableError:
                self._failed_at = self._monotonic()
                raise
        return self._pseudonymizer

    def user(self, raw: str) -> str:
        return self._get().user(raw)

    def anon(self, raw: str) -> str:
        return self._get().anon(raw)

    def session(self, raw: str) -> str:
        return self._get().session(raw)

    def tombstone(self, pseudonym: str) -> str:
        return self._get().tombstone(pseudonym)

    def derived_key(self, label: bytes) -> bytes:
        return self._get().derived_key(label)
