"""Changing the rules: every change is written with its audit record in one transaction.

The rules are one row with a write counter (`RuleStore`): a change reads the row, writes it back
only if nobody changed it meanwhile, and the audit record (who, the rule before and after, when)
is part of the same write, so no change goes unrecorded and no record describes a change that
did not happen. A lost race is retried on the new row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal, Protocol

from recs.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError
from recs.rules.model import MAX_RULES, Rule, RuleBody, RuleChange, RuleList

#: Attempts of one change when other changes win the race for the row.
WRITE_ATTEMPTS = 3


class RuleStore(Protocol):
    def read(self) -> tuple[list[Rule], int]:
        """Every stored rule and the row's revision (0 before the first write); strongly consistent.

        Raises `StoreUnavailableError` when the store cannot be read.
        """
        ...

    def write(self, rules: Sequence[Rule], expected_revision: int, change: RuleChange) -> bool:
        """Replace the rules and record `change`, atomically, if the revision is still
        `expected_revision`; False when another change got there first."""
        ...

    def changes(self, limit: int) -> list[RuleChange]:
        """The latest audit records, newest first."""
        ...


class RuleAdmin:
    def __init__(self, store: RuleStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def all(self) -> RuleList:
        rules, revision = self._store.read()
        return RuleList(rules=sorted(rules, key=lambda rule: rule.id), revision=revision)

    def put(self, rule_id: str, body: RuleBody, who: str) -> Rule:
        """Create the rule or replace it (idempotent: the same body twice leaves one rule)."""
        rule = Rule.of(rule_id, body, who, self._clock())
        self._change(rule_id, "put", rule, who)
        return rule

    def remove(self, rule_id: str, who: str) -> None:
        self._change(rule_id, "delete", None, who)

    def changes(self, limit: int) -> list[RuleChange]:
        return self._store.changes(limit)

    def _change(self, rule_id: str, action: Literal["put", "delete"], after: Rule | None, who: str) -> None:
        for _ in range(WRITE_ATTEMPTS):
            rules, revision = self._store.read()
            before = next((rule for rule in rules if rule.id == rule_id), None)
            if action == "delete" and before is None:
                raise NotFoundError(f"no rule {rule_id}")
            others = [rule for rule in rules if rule.id != rule_id]
            if after is not None and len(others) >= MAX_RULES:
                raise InvalidRequestError(
                    "too many rules", {"ruleId": f"at most {MAX_RULES} rules; remove expired ones first"}
                )
            kept = sorted([*others, after] if after is not None else others, key=lambda rule: rule.id)
            change = RuleChange(
                ruleId=rule_id,
                action=action,
                who=who,
                at=self._clock(),
                before=before,
                after=after,
                revision=revision + 1,
            )
            if self._store.write(kept, revision, change):
                return
        raise ServiceUnavailableError("the rules kept changing under this change; retry", retry_after=1)
