"""Keyed-hash pseudonyms for user, anonymous and session ids.

HMAC-SHA256 under a secret key, namespaced per id kind so that the same string used as a
user id and as an anonymous id does not collide, truncated to 128 bits (collisions are
negligible at any shop's scale). Without the key a pseudonym cannot be linked back to the raw
id by brute force over likely ids, which a plain hash would allow.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

USER_PREFIX = "u_"
ANON_PREFIX = "a_"
SESSION_PREFIX = "s_"
_MIN_KEY_BYTES = 16


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

    def tombstone(self, pseudonym: str) -> str:
        """A second, different keyed hash of a pseudonym.

        Erasure records keep this instead of the pseudonym, so that the erased shopper can be
        recognised (and excluded) in old data without the pseudonym itself being stored.
        """
        return "t_" + self._digest(b"erased", pseudonym)
