"""Pseudonyms for serving, with the key loaded on first use.

Loading the key lazily keeps the function's cold start free of network calls, and lets a
Secrets Manager outage degrade requests to non-personalized lists instead of failing the
container's initialisation: a failed load is retried after a pause, not on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from recs.domain.pseudonym import Pseudonymizer
from recs.errors import StoreUnavailableError


class Pseudonyms(Protocol):
    def user(self, raw: str) -> str: ...

    def anon(self, raw: str) -> str: ...


class LazyPseudonyms:
    """A `Pseudonymizer` whose key comes from `load_key` the first time one is needed.

    Raises `StoreUnavailableError` while the key cannot be loaded.
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
