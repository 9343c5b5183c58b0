"""A shopper's privacy choices, honoured at once in every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from recs.domain.pseudonym import Pseudonymizer
from recs.ports import Cache, KeyValueTable
from recs.storage import cache_key, iso, optout_cache_key, preference_key, user_pk

PREFERENCE_CACHE_TTL = 7 * 86_400


class PrivacyService:
    def __init__(
        self,
        model_table: KeyValueTable,
        state_table: KeyValueTable,
        cache: Cache,
        pseudonyms: Pseudonymizer,
        clock: Callable[[], datetime],
    ) -> None:
        self._models = model_table
        self._state = state_table
        self._cache = cache
        self._pseudonyms = pseudonyms
        self._clock = clock

    def set_preference(self, user_id: str, recommendations: bool) -> dict[str, Any]:
        user = self._pseudonyms.user(user_id)
        now = iso(self._clock())
        pk, sk = preference_key(user)
        self._state.put({"pk": pk, "sk": sk, "recommendations": recommendations, "updatedAt": now})
        self._cache.set_many(
            {optout_cache_key(user): b"0" if recommendations else b"1"}, PREFERENCE_CACHE_TTL
        )
        removed = 0
        if not recommendations:
            removed = self._remove_personal_rows(user)
        return {
            "userId": user_id,
            "preferences": {"recommendations": recommendations},
            "updatedAt": now,
            "personalizedRowsRemoved": removed,
        }

    def _remove_personal_rows(self, user: str) -> int:
        rows = self._models.query(user_pk(user))
        self._cache.delete([cache_key(str(row["sk"]).removeprefix("V#"), row["pk"]) for row in rows])
        return self._models.delete_many([(row["pk"], row["sk"]) for row in rows])

    def status(self, user_id: str) -> dict[str, Any]:
        user = self._pseudonyms.user(user_id)
        row = self._state.get(*preference_key(user))
        recommendations = not (row and row.get("recommendations") is False)
        return {
            "userId": user_id,
            "preferences": {"recommendations": recommendations},
            "updatedAt": row.get("updatedAt") if row else None,
        }
