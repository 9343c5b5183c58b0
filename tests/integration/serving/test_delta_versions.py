"""A delta version through the handler: the pointer's `baseVersion`, rows under both versions.

The delta wrote only the users' rows that changed since its base (the full publish `VERSION`):
a changed list, an empty row for a list that became empty, nothing for an unchanged one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from recs.store_layout import purchased_pk, user_pk, version_sk
from tests.integration.serving.world import (
    PSEUDONYMS,
    RERANK_LIST,
    RERANK_USER,
    RICH_USER,
    SPARSE_LIST,
    SPARSE_USER,
    VERSION,
    World,
    ids,
    sku,
)

DELTA = "v20260102T000000Z-delta1"
#: RICH_USER's list as the delta has it (changed since the base's sku_00045..sku_00054).
CHANGED_LIST = [(sku(n), round(1.0 - (n - 20) * 0.05, 3), "similar-users") for n in range(20, 30)]


@pytest.fixture
def delta(world: World) -> World:
    """`world` (everything under VERSION), then a delta of it flipped in."""
    # Every non-personal list under the delta, no user's row yet
    world.publish_everything(version=DELTA, skip={"user", "sparse"}, pointer=False)
    # RICH_USER's list changed; SPARSE_USER's became empty; RERANK_USER's did not change
    world.user_list(RICH_USER, CHANGED_LIST, version=DELTA)
    world.user_list(SPARSE_USER, [], version=DELTA)
    # Purchases: RICH_USER's base purchase of sku_00020 is none any more; RERANK_USER's of
    # sku_00050 did not change (the base's row only)
    world.purchased(RICH_USER, [sku(20)])
    world.purchased(RICH_USER, [], version=DELTA)
    world.purchased(RERANK_USER, [sku(50)])
    world.flip(DELTA, base=VERSION)
    world.service()._repo._control = None  # the container reads the new pointer now
    return world


def _as(raw_user: str) -> dict[str, str]:
    return {"userId": raw_user}


def test_a_changed_list_is_served_from_the_delta(delta: World) -> None:
    # When the user whose list changed asks for the homepage
    status, body, _ = delta.ask("recommend_homepage", **_as(RICH_USER))
    # Then the delta's list serves, under the delta's version, and the base's purchase that the
    # delta emptied does not filter sku_00020 out
    assert status == 200
    assert ids(body) == [p for p, _, _ in CHANGED_LIST]
    assert body["source"] == "user"
    assert body["modelVersion"] == DELTA


def test_an_unchanged_list_and_purchases_are_served_from_the_base(delta: World) -> None:
    # When the user the delta wrote nothing for asks for the homepage
    _, body, _ = delta.ask("recommend_homepage", **_as(RERANK_USER))
    # Then the base's list serves, less the base's purchase sku_00050, under the delta's version
    assert ids(body)[0] == RERANK_LIST[0][0]
    assert sku(50) not in ids(body)
    assert body["source"] == "user"
    assert body["modelVersion"] == DELTA


def test_a_list_that_became_empty_does_not_fall_back_to_the_base(delta: World) -> None:
    # When the user whose list the delta emptied asks for the homepage
    _, body, _ = delta.ask("recommend_homepage", **_as(SPARSE_USER))
    # Then they get the non-personal fallback, not the base's list
    assert not {p for p, _, _ in SPARSE_LIST} & set(ids(body))
    assert body["source"] != "user"


def test_the_base_costs_keys_in_the_same_store_read_not_another_read(
    delta: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the function's model table, recording each BatchGetItem it makes
    table = delta.service()._repo._tables[False]
    reads: list[Sequence[tuple[str, str]]] = []
    original = table.get_many

    def recording(keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        reads.append(list(keys))
        found: list[dict[str, Any] | None] = original(keys)
        return found

    monkeypatch.setattr(table, "get_many", recording)
    pseudonym = PSEUDONYMS.user(RICH_USER)
    personal = {
        (pk, version_sk(v)) for pk in (user_pk(pseudonym), purchased_pk(pseudonym)) for v in (DELTA, VERSION)
    }
    # When the user asks on a cold cache
    status, _, _ = delta.ask("recommend_homepage", **_as(RICH_USER))
    # Then their four rows (list and purchases, of the delta and of its base) came in one read
    assert status == 200
    with_user_rows = [keys for keys in reads if personal & set(keys)]
    assert len(with_user_rows) == 1
    assert personal <= set(with_user_rows[0])
    # When they ask again / Then the cache answers every one of them: no store read of them
    reads.clear()
    delta.ask("recommend_homepage", **_as(RICH_USER))
    assert not [keys for keys in reads if personal & set(keys)]
