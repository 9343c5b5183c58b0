"""Keys and row shapes shared by the writers (training, ingestion, privacy) and the reader (serving).

DynamoDB (both tables use string keys `pk`/`sk` and the TTL attribute `expiresAt`):

model table
    ``CURRENT``/``POINTER``                      the single current-version pointer
    ``VERSION#<v>``/``META``                     a version's status, parameters and evaluation
    ``U#<user pseudonym>``/``V#<v>``             a user's top-K (and what they purchased)
    ``SIM#<product>``/``V#<v>``                  similar items
    ``BT#<product>``/``V#<v>``                   bought together
    ``POP#<category or *>``/``V#<v>``            popular (and ``TREND#`` trending) per category
    ``CATALOG``/``V#<v>``                        product -> category, and unavailable products

state table
    ``USER#<pseudonym>``/``PREF``                recommendations preference (opt-out)
    ``SESSION#<pseudonym>``/``RECENT``           live session signal (recent products)
    ``ERASURE#<receipt>``/``RECEIPT``            erasure receipt and audit record

Redis keys carry the version, so a flip never serves a mix of versions:
``recs:<v>:<pk>`` holds the same JSON as the DynamoDB row's ``d`` attribute.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

POINTER_KEY = ("CURRENT", "POINTER")
ALL_CATEGORIES = "*"


def version_sk(version: str) -> str:
    return f"V#{version}"


def version_meta_key(version: str) -> tuple[str, str]:
    return f"VERSION#{version}", "META"


def user_pk(user_pseudonym: str) -> str:
    return f"U#{user_pseudonym}"


def similar_pk(product_id: str) -> str:
    return f"SIM#{product_id}"


def bought_together_pk(product_id: str) -> str:
    return f"BT#{product_id}"


def popular_pk(category: str = ALL_CATEGORIES) -> str:
    return f"POP#{category}"


def trending_pk(category: str = ALL_CATEGORIES) -> str:
    return f"TREND#{category}"


CATALOG_PK = "CATALOG"


def preference_key(user_pseudonym: str) -> tuple[str, str]:
    return f"USER#{user_pseudonym}", "PREF"


def session_key(visitor_pseudonym: str) -> tuple[str, str]:
    return f"SESSION#{visitor_pseudonym}", "RECENT"


def erasure_key(receipt_id: str) -> tuple[str, str]:
    return f"ERASURE#{receipt_id}", "RECEIPT"


def cache_key(version: str, pk: str) -> str:
    return f"recs:{version}:{pk}"


def optout_cache_key(user_pseudonym: str) -> str:
    return f"recs:optout:{user_pseudonym}"


# ----------------------------------------------------------------------------- row payloads
def encode_items(items: Sequence[tuple[str, float, str | None]]) -> str:
    """Compact JSON for a ranked list: [[id, score, reason], ...] (scores rounded to 5 digits)."""
    return json.dumps(
        [[pid, round(float(score), 5), reason] for pid, score, reason in items], separators=(",", ":")
    )


def decode_items(payload: str | bytes) -> list[tuple[str, float, str | None]]:
    return [(str(pid), float(score), reason) for pid, score, reason in json.loads(payload)]


def list_row(
    pk: str,
    version: str,
    items: Sequence[tuple[str, float, str | None]],
    generated_at: str,
    expires_at: int,
    **extra: Any,
) -> dict[str, Any]:
    """A ranked-list row; `d` is exactly what the cache stores."""
    return {
        "pk": pk,
        "sk": version_sk(version),
        "d": encode_items(items),
        "v": version,
        "g": generated_at,
        "expiresAt": expires_at,
        **extra,
    }


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
