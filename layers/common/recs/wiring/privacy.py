"""Wiring of the privacy function."""

from __future__ import annotations

from recs.config.privacy import PrivacySettings
from recs.privacy.service import PrivacyService
from recs.wiring.common import cache, pseudonymizer, table, utc_now


def privacy_service(settings: PrivacySettings) -> PrivacyService:
    return PrivacyService(
        table(settings.model_table_name),
        table(settings.state_table_name),
        cache(settings),
        pseudonymizer(settings.pseudonym_secret_id),
        utc_now,
    )
