"""Each fallback tier, and the faults that force them: cache down, DynamoDB down, no key, no model."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from recs.adapters.dynamodb import DynamoTable
from recs.adapters.secrets import SecretsManagerSource
from recs.errors import StoreUnavailableError
from recs.store_layout import ALL_CATEGORIES, POINTER_KEY, list_row, popular_pk
from recs_tools.local.redis_server import free_port
from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import (
    EXPIRES,
    GENERATED_AT,
    RICH_LIST,
    RICH_USER,
    VERSION,
    World,
    emf_metrics,
    ids,
    similar_to,
    sku,
)


def _throttled(*args: Any, **kwargs: Any) -> Any:
    """What the DynamoDB adapter raises when DynamoDB throttles or is down after botocore's
    retries (the translation itself: tests/unit/adapters/test_faults.py)."""
    raise StoreUnavailableError("table: ProvisionedThroughputExceededException")


def _metric(output: str, name: str) -> list[float]:
    """`name` of each served request (a fault counter is absent when zero)."""
    return [doc.get(name, [0.0])[0] for doc in emf_metrics(output) if "Served" in doc]


@pytest.mark.parametrize(
    ("skipped", "sample", "session", "source"),
    [
        ((), "recommend_homepage", False, "user"),
        (("user",), "recommend_homepage", True, "session"),
        (("user", "similar"), "recommend_homepage", True, "category-popular"),
        (("user", "similar", "category-popular"), "recommend_homepage", True, "popular"),
        (("user", "similar", "category-popular", "popular"), "recommend_homepage", True, "trending"),
        ((), "recommend_product_page", False, "similar"),
        (("similar",), "recommend_product_page", False, "bought-together"),
        (("similar", "bought-together"), "recommend_product_page", False, "category-popular"),
        (("bought-together",), "recommend_cart", False, "cart-similar"),
    ],
)
def test_each_tier_answers_when_the_ones_before_it_have_nothing(
    bare_world: World, skipped: tuple[str, ...], sample: str, session: bool, source: str
) -> None:
    # Given a published version missing the lists of the tiers before `source`
    bare_world.publish_everything(skip=skipped)
    if session:
        bare_world.user_session(RICH_USER, [(sku(3), "view")])
    # When the context asks
    status, body, _ = bare_world.ask(sample)
    # Then `source` serves, and the list is full
    assert status == 200
    assert body["source"] == source
    assert len(body["products"]) == 10


def test_before_the_first_model_the_answer_is_503_with_retry_after(bare_world: World) -> None:
    # Given nothing was ever published
    # When a shopper asks
    status, body, headers = bare_world.ask("recommend_homepage")
    # Then 503 says so, and when to retry
    assert status == 503
    assert "model" in body["message"]
    assert int({k.lower(): v for k, v in headers.items()}["retry-after"]) > 0


def test_when_no_source_has_a_list_the_answer_is_503(bare_world: World) -> None:
    # Given a flipped version with no list at all
    bare_world.publish(lists={})
    # When a shopper asks
    status, body, _ = bare_world.ask("recommend_homepage")
    # Then no source can answer
    assert status == 503
    assert "no source" in body["message"]


def test_a_dead_cache_degrades_to_dynamodb_and_is_not_retried_per_request(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a warm container, then the cache goes down
    world.ask("recommend_homepage")
    assert world.stack.redis is not None
    world.stack.redis.stop()
    capfd.readouterr()
    # When requests keep coming (a fresh user, so memory cannot answer for them)
    first = world.ask("recommend_homepage", userId="user_new_1")
    second = world.ask("recommend_homepage", userId="user_new_2")
    # Then both are served from DynamoDB
    assert first[0] == second[0] == 200
    assert ids(first[1]) == ids(second[1]) == [sku(n) for n in range(10)]
    # and the cache fault was paid once: the breaker skipped the cache on the next request
    assert _metric(capfd.readouterr().out, "CacheErrors") == [1.0, 0.0]


def test_a_cache_on_a_dead_port_from_the_start_is_a_miss(world: World) -> None:
    # Given a container whose CACHE_URL points where nothing listens
    world.stack.function("RecommendFunction").environment["CACHE_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    # When the homepage asks
    status, body, _ = world.ask("recommend_homepage")
    # Then DynamoDB answers
    assert status == 200
    assert ids(body) == [p for p, _, _ in RICH_LIST]


def test_without_a_cache_configured_dynamodb_serves(
    stack_without_cache: LocalStack, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given a stack whose CACHE_URL is empty (the null cache)
    world = World(stack_without_cache)
    world.publish_everything()
    # When the homepage asks twice
    world.ask("recommend_homepage")
    status, body, _ = world.ask("recommend_homepage")
    # Then it is served, and no cache was ever consulted
    assert status == 200
    assert ids(body) == [p for p, _, _ in RICH_LIST]
    assert set(_metric(capfd.readouterr().out, "CacheHits")) == {0.0}


def test_when_dynamodb_throttles_a_warm_container_serves_from_cache(world: World) -> None:
    # Given a warm container and cache
    _, before, _ = world.ask("recommend_homepage")
    # When DynamoDB throttles every read
    with (
        mock.patch.object(DynamoTable, "get_many", _throttled),
        mock.patch.object(DynamoTable, "get", _throttled),
    ):
        status, body, _ = world.ask("recommend_homepage")
    # Then the same list is served
    assert status == 200
    assert ids(body) == ids(before)


def test_when_dynamodb_is_down_a_fresh_container_serves_from_the_cache(world: World) -> None:
    # Given the cache was filled by an earlier container
    world.ask("recommend_homepage")
    world.ask("recommend_anonymous")
    # When a new container starts while DynamoDB is down
    world.stack.function("RecommendFunction")._handler = None
    with (
        mock.patch.object(DynamoTable, "get_many", _throttled),
        mock.patch.object(DynamoTable, "get", _throttled),
    ):
        user = world.ask("recommend_homepage")
        anonymous = world.ask("recommend_anonymous")
    # Then it learns the current version from the cache's copy and serves what is cached
    assert user[0] == anonymous[0] == 200
    assert ids(user[1]) == [p for p, _, _ in RICH_LIST]
    assert ids(anonymous[1]) == [sku(n) for n in range(5)]


def test_when_dynamodb_is_down_and_nothing_is_cached_the_answer_is_503(world: World) -> None:
    # Given a fresh container, an empty cache and DynamoDB down
    with (
        mock.patch.object(DynamoTable, "get_many", _throttled),
        mock.patch.object(DynamoTable, "get", _throttled),
    ):
        status, _, headers = world.ask("recommend_homepage")
    # Then it cannot answer, and says when to retry
    assert status == 503
    assert "retry-after" in {k.lower() for k in headers}


def test_an_unreadable_opt_out_flag_is_treated_as_an_opt_out(world: World) -> None:
    # Given the lists are cached but the user's preference is neither cached nor readable
    world.ask("recommend_anonymous")
    original = DynamoTable.get_many

    def state_table_down(self: DynamoTable, keys: Any) -> Any:
        if "StateTable" in self.table_name:
            return _throttled()
        return original(self, keys)

    # When the user asks while the state table fails
    with mock.patch.object(DynamoTable, "get_many", state_table_down):
        status, body, _ = world.ask("recommend_homepage")
    # Then they get non-personalized products, never their profile
    assert status == 200
    assert body["source"] == "popular"
    assert not {p for p, _, _ in RICH_LIST} & set(ids(body))


def test_without_the_pseudonym_key_visitors_get_non_personalized_lists(world: World) -> None:
    # Given Secrets Manager fails when the container first needs the key (what the adapter
    # raises then: tests/unit/adapters/test_faults.py)
    def unavailable(self: SecretsManagerSource, secret_id: str) -> bytes:
        raise StoreUnavailableError("secrets manager: EndpointConnectionError")

    world.anon_session("anon_sample_1", [(sku(33), "view")])
    with mock.patch.object(SecretsManagerSource, "get_secret", unavailable):
        status, body, _ = world.ask("recommend_anonymous")
    # Then the visitor is served, without personalization
    assert status == 200
    assert body["source"] == "popular"
    # and once the key is available again (after a short pause) personalization is back
    service = world.service()
    service._pseudonyms._failed_at = float("-inf")
    _, later, _ = world.ask("recommend_anonymous")
    assert ids(later) == [p for p, _, _ in similar_to(33)][:5]


def test_after_a_refused_run_shop_wide_lists_come_from_it_and_personal_lists_stay(world: World) -> None:
    # Given the world's version serving, then a refused run that published only its popular list
    # and the catalog map under v2 and moved the pointer's listsVersion there
    world.publish_everything()
    fresh = [(sku(n), float(n), "popular") for n in range(59, 39, -1)]
    world.models.put(list_row(popular_pk(ALL_CATEGORIES), "v2", fresh, GENERATED_AT, EXPIRES))
    world.models.put(
        {
            "pk": POINTER_KEY[0],
            "sk": POINTER_KEY[1],
            "modelVersion": VERSION,
            "generatedAt": GENERATED_AT,
            "listsVersion": "v2",
            "listsGeneratedAt": GENERATED_AT,
        }
    )
    # When an anonymous visitor and a signed-in shopper ask for the homepage
    _, anonymous, _ = world.ask("recommend_no_identity")
    _, personal, _ = world.ask("recommend_homepage")
    # Then the popular list is the refused run's, and the shopper's own list is still the model's
    assert ids(anonymous) == [p for p, _, _ in fresh][: len(ids(anonymous))]
    assert ids(anonymous)
    assert anonymous["modelVersion"] == VERSION
    assert ids(personal)[:3] == [p for p, _, _ in RICH_LIST][:3]
