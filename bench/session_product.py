"""The product's session path as it runs in Lambda, for the session benchmark.

A version is trained by the product's own code (`recs_tools.training.offline.load_window`, then
`recs.training.build.train_version` and `user_lists` with the shipped training defaults),
turned into the rows training publishes (`recs.training.publish.publishing`), and held in an in-memory
model table. Each prediction is one request to the real `recs.serving.service.RecommendService`
(memory tier as on a warm container, no cache), after the visitor's session row has been
written as ingestion writes it (`recs.ingest.session_signal.merge_recent`). Nothing of the
request path is re-implemented here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.session_data import Session
from recs.adapters.redis_cache import NullCache
from recs.config.ingest import IngestSettings
from recs.config.recommend import RecommendSettings
from recs.ingest.session_signal import merge_recent
from recs.serving.experiments import Experiments
from recs.serving.query import RecommendationQuery
from recs.serving.ranking import SESSION_RECENCY
from recs.serving.repository import CacheTtls, ListRepository
from recs.serving.service import RecommendService, ServingOptions
from recs.serving.sources import Chains
from recs.store_layout import (
    POINTER_KEY,
    SESSION_CONSTANTS_ATTRIBUTE,
    iso,
    session_constants,
    session_row,
)
from recs.training.build import TrainedVersion, train_version, user_lists
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.interactions import Interactions
from recs.training.publish.publishing import catalog_rows, item_list_rows, purchased_rows, user_list_rows
from recs_tools.training.offline import load_window

EXPIRES = 2**31 - 1
#: A warm container holds every shared list of a version in memory.
MEMORY_ENTRIES = 1_000_000


def shipped_default(name: str) -> Any:
    """A recommend-function setting's default (what runs when the variable is not set)."""
    return RecommendSettings.model_fields[name].default


def shipped_options() -> ServingOptions:
    return ServingOptions(
        exclude_purchased=bool(shipped_default("exclude_purchased")),
        session_seeds=int(shipped_default("session_seed_products")),
        session_weight=float(shipped_default("session_weight")),
        rerank_weight=float(shipped_default("rerank_weight")),
        session_recency=SESSION_RECENCY,
    )


class MemoryTable:
    """A table's reads, from rows held in a dict (the store as `ListRepository` reads it)."""

    def __init__(self, rows: Iterable[Mapping[str, Any]] = ()) -> None:
        self.rows: dict[tuple[str, str], dict[str, Any]] = {(r["pk"], r["sk"]): dict(r) for r in rows}

    def put(self, row: Mapping[str, Any]) -> None:
        self.rows[(row["pk"], row["sk"])] = dict(row)

    def delete(self, pk: str, sk: str) -> None:
        self.rows.pop((pk, sk), None)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self.rows.get((pk, sk))

    def get_many(self, keys: Sequence[tuple[str, str]]) -> list[dict[str, Any] | None]:
        return [self.rows.get(key) for key in keys]


class SamePseudonyms:
    """Ids as given: the benchmark's ids are already synthetic."""

    def user(self, raw: str) -> str:
        return raw

    def anon(self, raw: str) -> str:
        return raw


@dataclass(frozen=True)
class ListInputs:
    """What `train_version` builds the similar-items lists from, kept to rebuild them with other
    constants while tuning on validation."""

    interactions: Interactions
    neighbours: tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]
    available: npt.NDArray[np.bool_]


@dataclass
class Published:
    """A version as training publishes it, and what it was trained on."""

    version: str
    trained: TrainedVersion
    items: list[str]
    known_users: set[str]
    model_table: MemoryTable
    list_inputs: ListInputs


def publish(
    events: Iterable[Mapping[str, Any]],
    catalog: Catalog,
    *,
    end_ts: float,
    params: TrainingParameters,
    with_users: bool,
) -> Published:
    """Train on the events before ``end_ts`` with the product's code and publish the rows.

    ``with_users``: also the known users' ``U#`` and ``PURCHASED#`` rows (the anonymous path
    needs none).
    """
    now = datetime.fromtimestamp(end_ts, UTC)
    interactions, end = load_window(events, params, now)
    unavailable = catalog.unavailable_mask(interactions.items)
    categories = catalog.categories(interactions.items, interactions.item_category)
    trained = train_version(interactions, unavailable, categories, params, end_ts=end)
    version, generated = f"v{now:%Y%m%dT%H%M%SZ}-session", iso(now)
    rows = item_list_rows(trained.item_lists.to_json(interactions.items), version, generated, EXPIRES)
    category_map = {p: e.category for p, e in catalog.entries.items() if e.category}
    category_map.update({p: c for p, c in zip(interactions.items, categories, strict=True) if c})
    not_sold = [p for p, e in catalog.entries.items() if not e.available]
    rows.extend(
        catalog_rows(category_map, not_sold if catalog.present else None, version, generated, EXPIRES)
    )
    known = np.flatnonzero(interactions.is_user).astype(np.int64)
    if with_users and known.size:
        users = [interactions.users[u] for u in known.tolist()]
        ranked = user_lists(trained, known, unavailable)
        rows.extend(user_list_rows(users, interactions.items, ranked, version, generated, EXPIRES))
        rows.extend(
            purchased_rows(
                users, interactions.items, trained.signals.purchase_days[known], version, generated, EXPIRES
            )
        )
    # The pointer as the workflow's flip writes it: with the session constants this run chose.
    rows.append(
        {
            "pk": POINTER_KEY[0],
            "sk": POINTER_KEY[1],
            "modelVersion": version,
            "generatedAt": generated,
            **session_constants(trained.params.recorded()),
        }
    )
    # The model's neighbours exactly as train_version asks for them.
    n_items = interactions.n_items
    neighbours = trained.model.model.similar_items(
        np.arange(n_items), n=min(2 * trained.params.similar_k, max(n_items - 1, 1))
    )
    return Published(
        version=version,
        trained=trained,
        items=list(interactions.items),
        known_users={interactions.users[u] for u in known.tolist()},
        model_table=MemoryTable(rows),
        list_inputs=ListInputs(interactions, neighbours, ~unavailable),
    )


class ProductPath:
    """Requests to the real service over one published version, one per prediction."""

    #: The visitor whose session row each request reads (rewritten before every request).
    ANON = "bench-anonymous-visitor"

    def __init__(self, model_table: MemoryTable) -> None:
        self.model_table = model_table
        self.state_table = MemoryTable()
        self._max_items = int(IngestSettings.model_fields["session_max_items"].default)
        self._ttl = timedelta(seconds=int(IngestSettings.model_fields["session_ttl_seconds"].default))
        #: The pointer's learned session constants (as training's flip wrote them), set aside
        #: while a service runs without them.
        pointer = model_table.get(*POINTER_KEY) or {}
        self._learned = {k: pointer[k] for k in (SESSION_CONSTANTS_ATTRIBUTE,) if k in pointer}

    def service(self, options: ServingOptions, *, learned: bool = True) -> RecommendService:
        """A fresh container: its memory fills from the model table on first use of each list
        (so lists rebuilt in the table since the last service are the ones read).

        ``learned`` False serves the version as one trained before session constants were
        learned (the pointer without them), so ``options`` decide the merge: how the benchmark
        tunes and compares the defaults themselves.
        """
        pointer = self.model_table.get(*POINTER_KEY)
        if pointer is not None:
            pointer.pop(SESSION_CONSTANTS_ATTRIBUTE, None)
            if learned:
                pointer.update(self._learned)
        repository = ListRepository(
            self.model_table,
            self.state_table,
            NullCache(),
            ttls=CacheTtls(lists=0, optout=0, session=0, control=0),
            control_ttl_seconds=1e12,  # one version for the whole run
            memory_entries=MEMORY_ENTRIES,
        )
        chains = Chains()
        return RecommendService(
            repository,
            SamePseudonyms(),
            chains=chains,
            experiments=Experiments([], chains),
            options=options,
            new_nonce=lambda: "bench",
        )

    def write_session(self, visitor: str, session: Session, position: int) -> None:
        """The visitor's session row after the steps before ``position``, as ingestion merges it."""
        steps = [
            (item, kind, iso(datetime.fromtimestamp(stamp, UTC)))
            for item, kind, stamp in zip(
                session.items[:position], session.events[:position], session.times[:position], strict=True
            )
        ]
        newest = datetime.fromtimestamp(session.times[position - 1], UTC)
        merged = merge_recent([], steps, max_items=self._max_items, oldest=newest - self._ttl)
        self.state_table.put(session_row(visitor, merged, 1, EXPIRES))

    def answer(self, service: RecommendService, query: RecommendationQuery) -> list[str]:
        return [product.id for product in service.recommend(query).response.products]

    def anonymous(self, service: RecommendService, session: Session, position: int, limit: int) -> list[str]:
        """The homepage an anonymous visitor whose session holds the prefix would get."""
        self.write_session(self.ANON, session, position)
        return self.answer(service, RecommendationQuery(anonId=self.ANON, limit=limit))

    def known_user_homepage(
        self, service: RecommendService, session: Session, position: int, limit: int
    ) -> list[str]:
        """The homepage of the session's signed-in user, with the prefix as their live session."""
        assert session.user is not None
        self.write_session(session.user, session, position)
        return self.answer(service, RecommendationQuery(userId=session.user, limit=limit))

    def known_user_product_page(
        self, service: RecommendService, session: Session, position: int, limit: int
    ) -> list[str]:
        """The product page of the prefix's last product, as the session's signed-in user sees it."""
        assert session.user is not None
        self.write_session(session.user, session, position)
        query = RecommendationQuery(
            userId=session.user, limit=limit, context="product-page", productId=session.items[position - 1]
        )
        return self.answer(service, query)
