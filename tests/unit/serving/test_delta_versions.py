"""A delta version (the pointer's `baseVersion`): a user's rows of the version, else of its base.

A delta wrote only the users' rows that changed since its base (the last full publish); an empty
row of the delta means the user's list (or purchases) became empty and hides the base's.
"""

from __future__ import annotations

from typing import Any

import pytest

from recs.serving.experiments import Experiments
from recs.serving.query import RecommendationQuery
from recs.serving.repository import ReadStats, Want
from recs.serving.service import Outcome, RecommendService, ServingOptions
from recs.serving.sources import Chains
from recs.store_layout import (
    POINTER_KEY,
    cache_key,
    encode_items,
    popular_pk,
    purchased_pk,
    user_pk,
    version_sk,
)
from tests.unit.serving.test_repository import FakeCache, FakeTable, make

BASE, DELTA = "v1", "v2"
USER = "alice"
PSEUDONYM = "p_alice"
Items = list[tuple[str, float, str | None]]
BASE_LIST: Items = [("sku_b1", 1.0, "similar-users"), ("sku_b2", 0.9, "similar-users")]
DELTA_LIST: Items = [("sku_d1", 1.0, "similar-users"), ("sku_d2", 0.9, "similar-users")]
POPULAR: Items = [(f"sku_p{n}", float(10 - n), "popular") for n in range(6)]


class Pseudonyms:
    def user(self, raw: str) -> str:
        return "p_" + raw

    def anon(self, raw: str) -> str:
        return "a_" + raw


def pointer(base: str | None = BASE) -> dict[str, Any]:
    row = {"pk": POINTER_KEY[0], "sk": POINTER_KEY[1], "modelVersion": DELTA, "generatedAt": "g"}
    return {**row, "baseVersion": base} if base is not None else row


def row(pk: str, version: str, items: Items) -> dict[str, Any]:
    return {"pk": pk, "sk": version_sk(version), "d": encode_items(items)}


def shop(*personal: dict[str, Any], base: str | None = BASE) -> FakeTable:
    """The model table: the pointer at the delta, the delta's popular list, and `personal` rows."""
    return FakeTable([pointer(base), row(popular_pk(), DELTA, POPULAR), *personal])


def service(models: FakeTable, cache: FakeCache | None = None) -> RecommendService:
    repo, _ = make(models, cache=cache)
    return RecommendService(
        repo,
        Pseudonyms(),
        chains=Chains(),
        experiments=Experiments([], Chains()),
        options=ServingOptions(
            exclude_purchased=True, session_seeds=8, session_weight=0.4, rerank_weight=0.3
        ),
    )


def ask(served: RecommendService, user: str = USER) -> Outcome:
    return served.recommend(RecommendationQuery.from_parameters(user_id=user, limit=6))


def ids(outcome: Outcome) -> list[str]:
    return [p.id for p in outcome.response.products]


def personal_reads(models: FakeTable) -> list[list[tuple[str, str]]]:
    """The model table's reads that asked for users' rows."""
    return [keys for keys in models.calls if any(pk.startswith(("U#", "PURCHASED#")) for pk, _ in keys)]


def test_the_deltas_own_row_wins_over_the_bases() -> None:
    # Given a user whose list changed since the base: a row under both versions
    models = shop(row(user_pk(PSEUDONYM), BASE, BASE_LIST), row(user_pk(PSEUDONYM), DELTA, DELTA_LIST))
    # When the homepage asks
    outcome = ask(service(models))
    # Then the delta's list serves, and the response names the delta
    assert ids(outcome)[:2] == ["sku_d1", "sku_d2"]
    assert not {"sku_b1", "sku_b2"} & set(ids(outcome))
    assert outcome.response.source == "user"
    assert outcome.response.modelVersion == DELTA


def test_a_user_the_delta_did_not_write_is_served_the_bases_list() -> None:
    # Given a user whose list did not change: a row under the base only
    models = shop(row(user_pk(PSEUDONYM), BASE, BASE_LIST))
    # When the homepage asks
    outcome = ask(service(models))
    # Then the base's list serves, as the user's own, under the delta's version
    assert ids(outcome)[:2] == ["sku_b1", "sku_b2"]
    assert outcome.response.source == "user"
    assert outcome.response.modelVersion == DELTA


def test_an_empty_row_of_the_delta_hides_the_bases_list() -> None:
    # Given a user whose list became empty since the base: an empty row under the delta
    models = shop(row(user_pk(PSEUDONYM), BASE, BASE_LIST), row(user_pk(PSEUDONYM), DELTA, []))
    # When the homepage asks
    outcome = ask(service(models))
    # Then they get no personal list (the chain moves on to popular), never the base's
    assert not {"sku_b1", "sku_b2"} & set(ids(outcome))
    assert outcome.response.source == "popular"
    assert not outcome.personalized


def test_a_user_without_a_row_of_either_version_gets_no_personal_list() -> None:
    # Given a delta and its base, neither with a row of the user
    # When the homepage asks / Then popular serves
    outcome = ask(service(shop()))
    assert outcome.response.source == "popular"
    assert ids(outcome) == [p for p, _, _ in POPULAR]


@pytest.mark.parametrize("base", [None, DELTA], ids=["no-base", "base-is-the-version"])
def test_a_full_version_reads_one_key_per_personal_row_as_before(base: str | None) -> None:
    # Given a pointer without a base, or naming the version itself (a full publish), and a
    # row of the user under an older version only
    models = shop(row(user_pk(PSEUDONYM), BASE, BASE_LIST), base=base)
    # When the homepage asks
    outcome = ask(service(models))
    # Then the older version's row is not read, nor served
    [keys] = personal_reads(models)
    assert [key for key in keys if key[0].startswith(("U#", "PURCHASED#"))] == [
        (user_pk(PSEUDONYM), version_sk(DELTA)),
        (purchased_pk(PSEUDONYM), version_sk(DELTA)),
    ]
    assert outcome.response.source == "popular"


def test_purchases_follow_the_same_rule() -> None:
    # Given no list of the user, and purchases: a delta's empty row hiding the base's sku_p0,
    # and a second user with sku_p1 under the base only
    models = shop(
        row(purchased_pk(PSEUDONYM), BASE, [("sku_p0", 1.0, None)]),
        row(purchased_pk(PSEUDONYM), DELTA, []),
        row(purchased_pk("p_bob"), BASE, [("sku_p1", 1.0, None)]),
    )
    served = service(models)
    # When each asks for popular products
    # Then the first has nothing filtered (the delta's empty row wins) ...
    assert ids(ask(served)) == [p for p, _, _ in POPULAR]
    # ... and the second's base purchase is filtered out
    assert "sku_p1" not in ids(ask(served, "bob"))


def test_the_base_is_read_in_the_same_fetch_one_mget_and_one_batch_get() -> None:
    # Given a delta, its base, and a user with rows under both
    models = shop(
        row(user_pk(PSEUDONYM), BASE, BASE_LIST),
        row(purchased_pk(PSEUDONYM), BASE, [("sku_x", 1.0, None)]),
    )
    cache = FakeCache()
    # When the homepage asks on a cold cache
    outcome = ask(service(models, cache))
    # Then the user's four rows (list and purchases, delta and base) were asked for in one
    # BatchGetItem, with the shop-wide lists
    [keys] = personal_reads(models)
    personal = {(user_pk(PSEUDONYM), version_sk(v)) for v in (BASE, DELTA)}
    personal |= {(purchased_pk(PSEUDONYM), version_sk(v)) for v in (BASE, DELTA)}
    assert personal <= set(keys)
    assert (popular_pk(), version_sk(DELTA)) in keys
    # and the first fetch was one MGET (the second fetch has nothing to read: no session)
    assert outcome.stats.cache_round_trips == 1
    # and each table was read once beyond the pointer: model table once, state table once
    assert outcome.stats.store_reads == 3


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([row(user_pk(PSEUDONYM), BASE, BASE_LIST), row(user_pk(PSEUDONYM), DELTA, DELTA_LIST)], "sku_d1"),
        ([row(user_pk(PSEUDONYM), BASE, BASE_LIST)], "sku_b1"),
        ([row(user_pk(PSEUDONYM), BASE, BASE_LIST), row(user_pk(PSEUDONYM), DELTA, [])], "sku_p0"),
    ],
    ids=["delta-row", "base-row", "empty-delta-row"],
)
def test_the_cache_answers_as_the_store_did(rows: list[dict[str, Any]], expected: str) -> None:
    # Given a request answered from the store, which filled the cache
    models = shop(*rows)
    served = service(models)
    first = ask(served)
    # When the same request comes again with the model table down
    models.down = True
    again = ask(served)
    # Then the cache alone gives the same answer (an empty row cached as empty, not as absent)
    assert again.stats.store_reads == 0
    assert ids(again) == ids(first)
    assert ids(again)[0] == expected


def test_an_unreadable_delta_row_is_not_replaced_by_the_bases() -> None:
    # Given a warm container (the pointer and popular known) and the base's list of the user in
    # the cache, but not the delta's row
    models = shop(row(user_pk(PSEUDONYM), DELTA, []), row(user_pk(PSEUDONYM), BASE, BASE_LIST))
    cache = FakeCache()
    served = service(models, cache)
    ask(served, "bob")
    cache.values[cache_key(BASE, user_pk(PSEUDONYM))] = encode_items(BASE_LIST).encode()
    # When the model table fails for the delta's row
    models.down = True
    outcome = ask(served)
    # Then the base's list is not served: the delta's row might have been an empty one
    assert not {"sku_b1", "sku_b2"} & set(ids(outcome))
    assert outcome.response.source == "popular"


def test_an_empty_row_is_fetched_as_an_empty_list_and_an_absent_one_as_none() -> None:
    # Given a user's empty row under the delta and none under the base
    models = FakeTable([row(user_pk(PSEUDONYM), DELTA, [])])
    repo, _ = make(models)
    empty, absent = (
        Want.personal_list(DELTA, user_pk(PSEUDONYM)),
        Want.personal_list(BASE, user_pk(PSEUDONYM)),
    )
    # When both are fetched from the store, then again from the cache
    for store_reads in (1, 0):
        stats = ReadStats()
        fetched = repo.fetch([empty, absent], stats)
        # Then the empty row is an empty list and the absent one None, both times
        assert stats.store_reads == store_reads
        assert fetched.get(empty) == []
        assert fetched.get(absent) is None
