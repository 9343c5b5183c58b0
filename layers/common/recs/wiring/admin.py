"""Wiring of the admin function: the rules store in the state table, the clock."""

from __future__ import annotations

from recs.adapters import aws
from recs.adapters.dynamodb_rules import DynamoRuleStore
from recs.config.admin import AdminSettings
from recs.rules.admin import RuleAdmin
from recs.wiring.common import utc_now


def rule_admin(settings: AdminSettings) -> RuleAdmin:
    dynamodb = aws.client("dynamodb", settings.clients)
    return RuleAdmin(DynamoRuleStore(settings.state_table_name, dynamodb), utc_now)
