"""``recs train --events FILE --out DIR``: the training run on a local file (docs/architecture.md,
The offline command).

The same code as the workflow's steps (`recs.training.build`), in one process and without
pseudonymization: ids are used as given, so the output names users by their raw ids. Writes

* ``recommendations.jsonl``: one line per known user (``userId`` as given),
  ``{"userId", "products": [{"id", "score", "reason"}], "modelVersion", "generatedAt"}``
* ``similar_items.jsonl``: ``{"productId", "products": [...], "modelVersion", "generatedAt"}``
* ``popular.json``: popular and trending, overall and per category
* ``evaluation.json``: the holdout report (each shopper's last visit) against popularity and
  "bought most", the gate's verdict, the parameter search and the parameters used
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from recs.store_layout import ALL_CATEGORIES, iso
from recs.training.build import evaluate_version, train_version, user_lists
from recs.training.errors import TrainingError
from recs.training.fit.fitting import solver_threads
from recs.training.fit.lists import list_reason
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.interactions import InteractionBuilder, Interactions
from recs.training.prepare.matrix import SECONDS_PER_DAY
from recs.training.progress import TrainingProgress

#: Users ranked per call when writing recommendations (bounds memory whatever the user count).
USERS_PER_BATCH = 50_000


@dataclass(frozen=True)
class OfflineResult:
    version: str
    users: int
    items: int
    evaluation: dict[str, Any]
    stats: dict[str, int]


def load_window(
    events: Iterable[Mapping[str, Any]],
    params: TrainingParameters,
    now: datetime | None,
    catalog: Catalog | None = None,
) -> tuple[Interactions, float]:
    """Interactions of the window ending at ``now`` (default: just after the newest event); with a
    catalog export, events of products it does not list are left out, as Prepare does."""
    builder = InteractionBuilder().add_all(events)
    if now is not None:
        end_ts = now.timestamp()
    else:
        latest = builder.latest_timestamp()
        if latest is None:
            raise TrainingError(f"no usable events ({builder.read} records read)")
        end_ts = latest + 1.0
    interactions = builder.build(
        start_ts=end_ts - params.training_window_days * SECONDS_PER_DAY,
        end_ts=end_ts,
        known_product=(catalog or Catalog.absent()).known_product(),
    )
    if len(interactions) == 0:
        raise TrainingError(f"no usable events in the window ({builder.read} records read)")
    return interactions, end_ts


def run_offline(
    events: Iterable[Mapping[str, Any]],
    out: Path,
    params: TrainingParameters,
    *,
    catalog: Catalog | None = None,
    now: datetime | None = None,
    progress: TrainingProgress | None = None,
) -> OfflineResult:
    """Train, evaluate and write the four output files into ``out``."""
    progress = progress or TrainingProgress()
    catalog = catalog or Catalog.absent()
    interactions, end_ts = load_window(events, params, now, catalog)
    generated = iso(datetime.fromtimestamp(end_ts, UTC))
    version = f"offline-{datetime.fromtimestamp(end_ts, UTC):%Y%m%dT%H%M%SZ}"
    unavailable = catalog.unavailable_mask(interactions.items)
    categories = catalog.categories(interactions.items, interactions.item_category)
    trained = train_version(interactions, unavailable, categories, params, end_ts=end_ts, progress=progress)
    progress.stage("evaluating on each shopper's last visit against popularity and bought-most")
    evaluation = evaluate_version(
        interactions, unavailable, trained.params, end_ts=end_ts, family=trained.family, current_lift=None
    )
    out.mkdir(parents=True, exist_ok=True)
    stamp = {"modelVersion": version, "generatedAt": generated}
    known = np.flatnonzero(interactions.is_user).astype(np.int64)
    progress.stage(f"writing {known.size} users' recommendations")
    with (out / "recommendations.jsonl").open("w", encoding="utf-8") as sink:
        for start in range(0, known.size, USERS_PER_BATCH):
            users = known[start : start + USERS_PER_BATCH]
            ranked = user_lists(trained, users, unavailable, num_threads=solver_threads(params))
            for row, user in enumerate(users.tolist()):
                products = [
                    _product(interactions.items[i], score, reason)
                    for i, score, reason in ranked.items_of(row)
                ]
                _line(sink, {"userId": interactions.users[user], "products": products, **stamp})
            if progress.users_written is not None:
                progress.users_written(int(users.size))
    lists = trained.item_lists.to_json(interactions.items)
    with (out / "similar_items.jsonl").open("w", encoding="utf-8") as sink:
        reason = list_reason("similar", "").value
        for product in interactions.items:
            ranked_items = lists["similar"].get(product, [])
            products = [_product(p, s, reason) for p, s in ranked_items]
            _line(sink, {"productId": product, "products": products, **stamp})
    (out / "popular.json").write_text(json.dumps(_popular(lists, stamp), indent=1) + "\n", encoding="utf-8")
    report = {
        **stamp,
        **evaluation.as_dict(),
        "search": trained.selection,
        "parameters": trained.params.recorded(),
        "stats": interactions.stats,
    }
    (out / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return OfflineResult(version, int(known.size), interactions.n_items, report, interactions.stats)


def _product(product: str, score: float, reason: str) -> dict[str, Any]:
    return {"id": product, "score": round(float(score), 5), "reason": reason}


def _line(sink: TextIO, record: dict[str, Any]) -> None:
    sink.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
    sink.write("\n")


def _popular(lists: dict[str, Any], stamp: dict[str, str]) -> dict[str, Any]:
    def named(kind: str, key: str) -> list[dict[str, Any]]:
        reason = list_reason(kind, key).value
        return [_product(p, s, reason) for p, s in lists[kind].get(key, [])]

    return {
        "products": named("popular", ALL_CATEGORIES),
        "byCategory": {c: named("popular", c) for c in sorted(lists["popular"]) if c != ALL_CATEGORIES},
        "trending": named("trending", ALL_CATEGORIES),
        "trendingByCategory": {
            c: named("trending", c) for c in sorted(lists["trending"]) if c != ALL_CATEGORIES
        },
        **stamp,
    }
