"""Changing rules: a change and its audit record together, races retried, limits kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from recs.errors import InvalidRequestError, NotFoundError, ServiceUnavailableError
from recs.rules import admin as admin_module
from recs.rules.admin import RuleAdmin
from recs.rules.model import Rule, RuleBody, RuleChange
from tests.clock import PINNED_NOW

BODY = RuleBody(kind="block", productId="p1", startsAt=PINNED_NOW, endsAt=PINNED_NOW + timedelta(days=1))


class MemoryRuleStore:
    def __init__(self, lose_races: int = 0) -> None:
        self.rules: list[Rule] = []
        self.revision = 0
        self.audit: list[RuleChange] = []
        self.lose_races = lose_races

    def read(self) -> tuple[list[Rule], int]:
        return list(self.rules), self.revision

    def write(self, rules: Sequence[Rule], expected_revision: int, change: RuleChange) -> bool:
        if self.lose_races:
            self.lose_races -= 1
            self.revision += 1  # someone else's change
            return False
        assert expected_revision == self.revision
        self.rules, self.revision = list(rules), change.revision
        self.audit.append(change)
        return True

    def changes(self, limit: int) -> list[RuleChange]:
        return list(reversed(self.audit))[:limit]


def test_a_put_stores_the_rule_and_its_audit_record() -> None:
    # Given an empty store / When a rule is put / Then the rule and its audit record are written
    store = MemoryRuleStore()
    rule = RuleAdmin(store, lambda: PINNED_NOW).put("r1", BODY, "arn:op")
    assert store.rules == [rule]
    assert store.audit[0].model_dump() == {
        "ruleId": "r1",
        "action": "put",
        "who": "arn:op",
        "at": PINNED_NOW,
        "before": None,
        "after": rule.model_dump(),
        "revision": 1,
    }


def test_a_lost_race_is_retried_on_the_new_row_and_too_many_answer_503() -> None:
    # Given stores where other changes win the race once too few, and as often as we try
    store = MemoryRuleStore(lose_races=admin_module.WRITE_ATTEMPTS - 1)
    RuleAdmin(store, lambda: PINNED_NOW).put("r1", BODY, "arn:op")
    assert store.audit[-1].revision == admin_module.WRITE_ATTEMPTS
    busy = MemoryRuleStore(lose_races=admin_module.WRITE_ATTEMPTS)
    with pytest.raises(ServiceUnavailableError):
        RuleAdmin(busy, lambda: PINNED_NOW).put("r1", BODY, "arn:op")
    assert busy.audit == []


def test_removing_an_absent_rule_is_not_found_and_writes_nothing() -> None:
    # Given an empty store / When a rule is removed / Then 404 and no audit record
    store = MemoryRuleStore()
    with pytest.raises(NotFoundError):
        RuleAdmin(store, lambda: PINNED_NOW).remove("nope", "arn:op")
    assert store.audit == []


def test_the_rule_count_is_bounded_but_a_replacement_always_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a limit of 2 rules / When 2 are put, one replaced, and a third put / Then it is refused
    monkeypatch.setattr(admin_module, "MAX_RULES", 2)
    rules = RuleAdmin(MemoryRuleStore(), lambda: PINNED_NOW)
    rules.put("r1", BODY, "arn:op")
    rules.put("r2", BODY, "arn:op")
    rules.put("r2", BODY, "arn:op")
    with pytest.raises(InvalidRequestError) as refused:
        rules.put("r3", BODY, "arn:op")
    assert "ruleId" in refused.value.fields
