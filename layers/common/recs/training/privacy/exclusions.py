"""Who training must leave out: users who opted out, and every erased pseudonym.

Opt-outs are the preference rows privacy writes (``USER#<pseudonym>``/``PREF`` with
``recommendations`` false), for user pseudonyms and for anonymous ones (an opt-out made with a
signed anonymous id, `recs.visitor_ids`). Erasures are tombstones: privacy stores
``Pseudonymizer.tombstone(pseudonym)`` (``recs.store_layout.tombstone_key``) for each erased
pseudonym, so an erased shopper is recognised in data that still holds the pseudonym without
any store keeping the pseudonym itself. `ExclusionPolicy.is_erased` is the seam the privacy
feature relies on; `PrivacyRecords` is where the two sets come from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from recs.ports import PrivacyRecords


@dataclass(frozen=True)
class ExclusionPolicy:
    """Decides, per visitor of the training data, whether its events may be used."""

    opted_out: frozenset[str]
    tombstones: frozenset[str]
    tombstone_of: Callable[[str], str]

    @classmethod
    def nobody(cls) -> ExclusionPolicy:
        """No exclusions (the offline command, which works on raw ids)."""
        return cls(frozenset(), frozenset(), lambda pseudonym: pseudonym)

    @classmethod
    def load(cls, records: PrivacyRecords, tombstone_of: Callable[[str], str]) -> ExclusionPolicy:
        opted_out, tombstones = records.opted_out_and_tombstones()
        return cls(frozenset(opted_out), frozenset(tombstones), tombstone_of)

    def is_erased(self, pseudonym: str) -> bool:
        """True when privacy recorded an erasure of this (user or anonymous) pseudonym."""
        return bool(self.tombstones) and self.tombstone_of(pseudonym) in self.tombstones

    def excluded(self, visitor: str, is_user: bool) -> bool:
        """The `InteractionBuilder.build` predicate: opted-out visitors (users, and anonymous ids
        whose holder opted out with the signed id: both are preference rows under the pseudonym)
        and erased visitors. `is_user` is not needed: the pseudonym's namespace tells them apart."""
        del is_user
        return visitor in self.opted_out or self.is_erased(visitor)

    def stats(self) -> dict[str, int]:
        return {"optedOutUsers": len(self.opted_out), "erasureTombstones": len(self.tombstones)}


def collect(records: Iterable[tuple[str, str]]) -> tuple[set[str], set[str]]:
    """Split (kind, value) pairs from a store scan into the two sets; kind is "optout" or "erased"."""
    opted_out: set[str] = set()
    tombstones: set[str] = set()
    for kind, value in records:
        (opted_out if kind == "optout" else tombstones).add(value)
    return opted_out, tombstones
