"""Recognising erased visitors in data that holds pseudonyms, without storing any pseudonym.

Stores keep tombstones (`Pseudonymizer.tombstone(pseudonym)`), so the purge finds an erased
visitor by hashing each pseudonym it meets and looking the result up. Pseudonyms have a fixed
shape (``u_``/``a_`` + 32 hex digits, `recs.pseudonyms`), so they can be picked out of
any text (NDJSON lines, JSON artifacts, string arrays) with one regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

#: User and anonymous pseudonyms (session pseudonyms are never tombstoned: they go with records).
VISITOR_TOKEN = re.compile(r"\b[ua]_[0-9a-f]{32}\b")
VISITOR_TOKEN_BYTES = re.compile(rb"\b[ua]_[0-9a-f]{32}\b")


class ErasedVisitors:
    """The set of erased visitors, known by tombstone; each pseudonym is hashed once per run."""

    def __init__(self, tombstones: Iterable[str], tombstone_of: Callable[[str], str]) -> None:
        self._tombstones = set(tombstones)
        self._tombstone_of = tombstone_of
        self._memo: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._tombstones)

    def tombstone(self, pseudonym: str) -> str:
        found = self._memo.get(pseudonym)
        if found is None:
            found = self._memo[pseudonym] = self._tombstone_of(pseudonym)
        return found

    def __contains__(self, pseudonym: object) -> bool:
        return (
            isinstance(pseudonym, str)
            and bool(self._tombstones)
            and self.tombstone(pseudonym) in self._tombstones
        )

    def add(self, tombstone: str) -> None:
        self._tombstones.add(tombstone)

    def has_tombstone(self, tombstone: str) -> bool:
        return tombstone in self._tombstones

    def erased_in(self, text: str) -> set[str]:
        """The erased pseudonyms appearing in a text."""
        return {token for token in set(VISITOR_TOKEN.findall(text)) if token in self}

    def erased_in_bytes(self, data: bytes) -> set[bytes]:
        """The erased pseudonyms appearing in raw bytes (as bytes)."""
        return {token for token in set(VISITOR_TOKEN_BYTES.findall(data)) if token.decode() in self}
