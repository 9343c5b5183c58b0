"""A small published world for serving tests: rows in the shapes training, ingestion and the
catalog feed write (recs.store_layout), with a known answer for every context.

Catalog: sku_00000..sku_00059; cat_a holds 0-29, cat_b holds 30-59.
- popular (POP#*): sku_00000..sku_00039, best first; trending (TREND#*): sku_00059 down to sku_00020
- category-popular: each category's products in id order
- similar (SIM#p): the next 8 products of p's category (cyclic), closest first
- bought-together (BT#p): 4 products of the other category
- users: `user_000001` has a full list (sku_00045..sku_00054), `user_sparse` two items, others none
- `World.publish_category_paths`: another version whose categories are paths (`path_of`)

Every row is written under `VERSION` unless a test publishes another version (`version=`), e.g.
a delta whose pointer names `VERSION` as its base (`flip(..., base=VERSION)`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from recs.adapters.dynamodb import DynamoTable
from recs.pseudonyms import Pseudonymizer
from recs.store_layout import (
    ALL_CATEGORIES,
    CATALOG_PK,
    POINTER_KEY,
    AttributeSource,
    attribute_map_rows,
    availability_rows,
    bought_together_pk,
    category_map_rows,
    iso,
    list_row,
    popular_pk,
    purchased_pk,
    session_constants_attribute,
    session_key,
    similar_pk,
    trending_pk,
    user_pk,
    version_sk,
)
from recs_tools.local.stack import LOCAL_PSEUDONYM_KEY, LocalStack
from tests.helpers import body_of, load_event

VERSION = "v20260101T000000Z-test01"
GENERATED_AT = "2026-01-01T00:00:00Z"
EXPIRES = 2**31 - 1
RICH_USER = "user_000001"
SPARSE_USER = "user_sparse"
#: Likes sku_00009 best: on sku_00001's product page it lifts sku_00009, the least similar item.
RERANK_USER = "user_likes_nine"
PSEUDONYMS = Pseudonymizer(LOCAL_PSEUDONYM_KEY.encode())
#: The sample event of an anonymous visitor's homepage (no session: the shop-wide lists answer).
ANONYMOUS = "recommend_anonymous"

Item = tuple[str, float, str | None]
Items = list[Item]


def sku(n: int) -> str:
    return f"sku_{n:05d}"


def category_of(n: int) -> str:
    return "cat_a" if n < 30 else "cat_b"


def path_of(n: int) -> str:
    """The categories of `World.publish_category_paths`: knives 0-19 and pans 20-39 below
    home/kitchen; home/kitchenware 40-49 (a partial segment of home/kitchen); garden 50-59, flat."""
    if n < 20:
        return "home/kitchen/knives"
    if n < 40:
        return "home/kitchen/pans"
    return "home/kitchenware" if n < 50 else "garden"


def similar_to(n: int) -> Items:
    base = 0 if n < 30 else 30
    return [(sku(base + (n - base + k) % 30), round(1.0 - k * 0.1, 3), "similar-items") for k in range(1, 9)]


def bought_with(n: int) -> Items:
    other = 30 if n < 30 else 0
    return [(sku(other + (n * 7 + k) % 30), round(4.0 - k, 3), "bought-together") for k in range(4)]


RICH_LIST: Items = [(sku(n), round(1.0 - (n - 45) * 0.05, 3), "similar-users") for n in range(45, 55)]
SPARSE_LIST: Items = [(sku(41), 0.9, "similar-users"), (sku(42), 0.8, "similar-users")]
RERANK_LIST: Items = [(sku(9), 1.0, "similar-users"), (sku(50), 0.5, "similar-users")]


@dataclass
class World:
    """Writes and reads the tables of a local stack the way the other functions do."""

    stack: LocalStack

    def table(self, logical_id: str) -> DynamoTable:
        return DynamoTable(self.stack.physical[logical_id], self.stack.client("dynamodb"))

    @property
    def models(self) -> DynamoTable:
        return self.table("ModelTable")

    @property
    def state(self) -> DynamoTable:
        return self.table("StateTable")

    # -- what training publishes ------------------------------------------------------------
    def publish(
        self, *, lists: Mapping[str, Items] | None = None, pointer: bool = True, version: str = VERSION
    ) -> None:
        rows = [list_row(pk, version, items, GENERATED_AT, EXPIRES) for pk, items in (lists or {}).items()]
        rows.append(
            {
                "pk": CATALOG_PK,
                "sk": version_sk(version),
                "v": version,
                "expiresAt": EXPIRES,
                "d": json.dumps({sku(n): category_of(n) for n in range(60)}),
            }
        )
        self.models.put_many(rows)
        if pointer:
            self.flip(version)

    def flip(
        self, version: str = VERSION, *, session: tuple[int, float] | None = None, base: str | None = None
    ) -> None:
        """The pointer at `version`, with the session constants (seeds, recency) its training chose
        and, for a delta version, its base (the full publish whose users' rows it falls back to)."""
        self.models.put(
            {
                "pk": POINTER_KEY[0],
                "sk": POINTER_KEY[1],
                "modelVersion": version,
                "generatedAt": GENERATED_AT,
                **session_constants_attribute(session),
                **({"baseVersion": base} if base else {}),
            }
        )

    def publish_everything(
        self, *, skip: Iterable[str] = (), version: str = VERSION, pointer: bool = True
    ) -> None:
        """The whole world; `skip` names list kinds left out (user, sparse, similar, bought-together,
        category-popular, popular, trending) to force the fallback tiers."""
        skipped = set(skip)
        lists: dict[str, Items] = {}
        if "user" not in skipped:
            lists[user_pk(PSEUDONYMS.user(RICH_USER))] = RICH_LIST
        if "sparse" not in skipped:
            lists[user_pk(PSEUDONYMS.user(SPARSE_USER))] = SPARSE_LIST
            lists[user_pk(PSEUDONYMS.user(RERANK_USER))] = RERANK_LIST
        for n in range(60):
            if "similar" not in skipped:
                lists[similar_pk(sku(n))] = similar_to(n)
            if "bought-together" not in skipped:
                lists[bought_together_pk(sku(n))] = bought_with(n)
        for category, numbers in (("cat_a", range(30)), ("cat_b", range(30, 60))):
            if "category-popular" not in skipped:
                lists[popular_pk(category)] = [(sku(n), float(100 - n), "category-popular") for n in numbers]
            if "trending" not in skipped:
                lists[trending_pk(category)] = [(sku(n), float(n), "trending") for n in numbers]
        if "popular" not in skipped:
            lists[popular_pk(ALL_CATEGORIES)] = [(sku(n), float(100 - n), "popular") for n in range(40)]
        if "trending" not in skipped:
            lists[trending_pk(ALL_CATEGORIES)] = [(sku(n), float(n), "trending") for n in range(59, 19, -1)]
        self.publish(lists=lists, version=version, pointer=pointer)

    def publish_category_paths(self, version: str = "vpaths") -> None:
        """A version whose categories are paths (`path_of`), with popular and trending lists per
        leaf category (as training writes them) and a shop-wide popular list of all 60 (best
        first: sku_00000), and the pointer at it."""
        per_leaf: dict[str, list[int]] = {}
        for n in range(60):
            per_leaf.setdefault(path_of(n), []).append(n)
        lists = {popular_pk(): [(sku(n), float(100 - n), "popular") for n in range(60)]}
        for leaf, members in per_leaf.items():
            lists[popular_pk(leaf)] = [(sku(n), float(100 - n), "category-popular") for n in members]
            lists[trending_pk(leaf)] = [(sku(n), float(n), "trending") for n in members]
        rows = [list_row(pk, version, items, GENERATED_AT, EXPIRES) for pk, items in lists.items()]
        categories = {sku(n): path_of(n) for n in range(60)}
        rows.extend(category_map_rows(categories, version, GENERATED_AT, EXPIRES))
        self.models.put_many(rows)
        self.flip(version)

    def purchased(self, raw_user: str, products: Iterable[str], *, version: str = VERSION) -> None:
        """The user's purchases row (an empty one when `products` is: a delta's "none any more")."""
        items = [(p, 1.0, None) for p in products]
        self.models.put(
            list_row(purchased_pk(PSEUDONYMS.user(raw_user)), version, items, GENERATED_AT, EXPIRES)
        )

    def user_list(self, raw_user: str, items: Sequence[Item], *, version: str = VERSION) -> None:
        """The user's list row (an empty one when `items` is: a delta's "no list any more")."""
        self.models.put(list_row(user_pk(PSEUDONYMS.user(raw_user)), version, items, GENERATED_AT, EXPIRES))

    def attributes(self, attributes: Mapping[str, AttributeSource], *, version: str = VERSION) -> None:
        """The version's attribute map (product -> (brand, price) or (brand, price, tags)), as
        training or, under a catalog version, the catalog feed writes it; brands and tags
        lower-cased as the catalog's are."""
        categories = {sku(n): category_of(n) for n in range(60)}
        self.models.put_many(attribute_map_rows(attributes, categories, version, GENERATED_AT, EXPIRES))

    # -- what the catalog feed and ingestion write ------------------------------------------
    def unavailable(self, products: Iterable[str]) -> None:
        self.models.put_many(availability_rows(list(products), iso(datetime.now(UTC))))

    def session(self, pseudonym: str, recent: list[tuple[str, str]]) -> None:
        """`recent`: (product, event type), newest first, as ingestion keeps it."""
        now = datetime.now(UTC)
        rows = [
            [product, event, (now - timedelta(seconds=i)).isoformat()]
            for i, (product, event) in enumerate(recent)
        ]
        pk, sk = session_key(pseudonym)
        self.state.put({"pk": pk, "sk": sk, "d": json.dumps(rows), "expiresAt": EXPIRES})

    def user_session(self, raw_user: str, recent: list[tuple[str, str]]) -> None:
        self.session(PSEUDONYMS.user(raw_user), recent)

    def anon_session(self, raw_anon: str, recent: list[tuple[str, str]]) -> None:
        self.session(PSEUDONYMS.anon(raw_anon), recent)

    # -- asking -------------------------------------------------------------------------------
    def ask(self, sample: str, **query: str | None) -> tuple[int, Any, dict[str, str]]:
        """Invoke the recommend function with a sample event, its query changed by `query`
        (a None value removes a parameter). Returns (status, body, headers)."""
        event = with_query(load_event(sample), **query)
        response = self.stack.invoke("RecommendFunction", event)
        return response["statusCode"], body_of(response), response.get("headers", {})

    def service(self) -> Any:
        """The warm container's service object (to reset its memory between phases of a test)."""
        return self.stack.function("RecommendFunction").module.service


def with_query(event: dict[str, Any], **changes: str | None) -> dict[str, Any]:
    """The event with its query string parameters changed, as API Gateway would have built it."""
    query = dict(event.get("queryStringParameters") or {})
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    changed = {**event, "rawQueryString": urlencode(query, safe=",")}
    if query:
        changed["queryStringParameters"] = query
    else:
        changed.pop("queryStringParameters", None)
    return changed


def ids(body: Any) -> list[str]:
    return [p["id"] for p in body["products"]]


def numbers(body: Any) -> list[int]:
    """The served products' numbers (sku_00042 -> 42), to compare with `category_of` and the like."""
    return [int(p.removeprefix("sku_")) for p in ids(body)]


def reasons(body: Any) -> list[str]:
    return [p["reason"] for p in body["products"]]


def emf_metrics(output: str) -> list[dict[str, Any]]:
    """The EMF metric documents a handler printed."""
    documents = []
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            documents.append(json.loads(line))
    return documents


def log_lines(output: str, message: str) -> list[dict[str, Any]]:
    """The structured log lines with `message` a handler printed."""
    lines = []
    for line in output.splitlines():
        if line.startswith("{") and f'"message":"{message}"' in line.replace(" ", ""):
            lines.append(json.loads(line))
    return lines
