"""The steps of the training workflow, as pure functions of the job document.

prepare -> train -> evaluate -> (gate) -> publish shards -> flip -> cleanup, plus
record_failure / record_refusal on the failure paths. Large data moves through the artifact
store under ``models/<version>/``; the job document stays small (Step Functions' 256 KB limit).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp

from recs.domain.pseudonym import Pseudonymizer
from recs.models.recommendations import Reason
from recs.ports import Cache, KeyValueTable, ObjectStore
from recs.storage import (
    ALL_CATEGORIES,
    CATALOG_PK,
    POINTER_KEY,
    bought_together_pk,
    cache_key,
    iso,
    list_row,
    popular_pk,
    similar_pk,
    trending_pk,
    user_pk,
    version_meta_key,
    version_sk,
)
from recs.training import itemknn, lists
from recs.training.interactions import PURCHASE_CODE, Interactions, build_interactions
from recs.training.lake import read_window
from recs.training.matrix import confidence_matrix, interaction_weights
from recs.training.quick_metrics import ranking_metrics

SECONDS_PER_DAY = 86_400.0


class TrainingError(Exception):
    """A run that cannot produce a model (e.g. no events in the window)."""


@dataclass(frozen=True)
class TrainingConfig:
    lake_prefix: str
    window_days: int
    holdout_days: int
    top_k: int
    version_ttl_days: int
    event_weights: dict[str, float]
    shard_users: int
    gate_max_regression: float = 0.2
    similar_k: int = 50
    list_k: int = 100
    half_life_days: float | None = 30.0
    neighbours: int = 100


@dataclass
class TrainingDeps:
    lake: ObjectStore
    artifacts: ObjectStore
    model_table: KeyValueTable
    state_table: KeyValueTable
    cache: Cache
    pseudonyms: Pseudonymizer
    clock: Callable[[], datetime]
    cache_ttl_seconds: int = 86_400


def _prefix(version: str) -> str:
    return f"models/{version}/"


def _save_npz(store: ObjectStore, key: str, **arrays: Any) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    store.put(key, buffer.getvalue())


def _load_npz(store: ObjectStore, key: str) -> dict[str, Any]:
    with np.load(io.BytesIO(store.get(key)), allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _save_json(store: ObjectStore, key: str, payload: Any) -> None:
    store.put(key, json.dumps(payload, separators=(",", ":")).encode(), "application/json")


def _load_json(store: ObjectStore, key: str) -> Any:
    return json.loads(store.get(key))


class TrainingPipeline:
    def __init__(self, config: TrainingConfig, deps: TrainingDeps) -> None:
        self.config = config
        self.deps = deps

    # ------------------------------------------------------------------ prepare
    def prepare(self, job: dict[str, Any]) -> dict[str, Any]:
        now = self.deps.clock()
        execution = str(job.get("executionName") or "manual")
        version = f"v{now:%Y%m%dT%H%M%SZ}-{hashlib.sha256(execution.encode()).hexdigest()[:6]}"
        start = now - timedelta(days=self.config.window_days)
        excluded = self._excluded_users()
        interactions = build_interactions(
            read_window(self.deps.lake, self.config.lake_prefix, start, now),
            start=start,
            end=now + timedelta(minutes=10),
            excluded_user=excluded.__contains__,
        )
        if len(interactions) == 0:
            raise TrainingError("no usable events in the training window")
        prefix = _prefix(version)
        _save_npz(
            self.deps.artifacts,
            prefix + "prepared/interactions.npz",
            user=interactions.user,
            item=interactions.item,
            event=interactions.event,
            timestamp=interactions.timestamp,
            quantity=interactions.quantity,
            basket=interactions.basket,
        )
        _save_json(
            self.deps.artifacts,
            prefix + "prepared/ids.json",
            {
                "users": interactions.users,
                "items": interactions.items,
                "itemCategory": interactions.item_category,
            },
        )
        self.deps.model_table.put(
            {
                "pk": version_meta_key(version)[0],
                "sk": "META",
                "status": "training",
                "startedAt": iso(now),
                "stats": json.dumps(interactions.stats),
                "weights": json.dumps(self.config.event_weights),
                "expiresAt": int(now.timestamp() + self.config.version_ttl_days * SECONDS_PER_DAY),
            }
        )
        return {
            "modelVersion": version,
            "generatedAt": iso(now),
            "nowTs": now.timestamp(),
            "executionName": execution,
            "stats": interactions.stats,
        }

    def _excluded_users(self) -> set[str]:
        """Opted-out users' pseudonyms (erasure tombstones are checked separately)."""
        excluded: set[str] = set()
        for pk, sk in self.deps.state_table.scan_keys():
            if sk == "PREF" and pk.startswith("USER#"):
                item = self.deps.state_table.get(pk, sk)
                if item and item.get("recommendations") is False:
                    excluded.add(pk.removeprefix("USER#"))
        return excluded

    def _load_interactions(self, version: str) -> Interactions:
        prefix = _prefix(version)
        arrays = _load_npz(self.deps.artifacts, prefix + "prepared/interactions.npz")
        ids = _load_json(self.deps.artifacts, prefix + "prepared/ids.json")
        return Interactions(
            users=ids["users"],
            items=ids["items"],
            item_category=ids["itemCategory"],
            user=arrays["user"],
            item=arrays["item"],
            event=arrays["event"],
            timestamp=arrays["timestamp"],
            quantity=arrays["quantity"],
            basket=arrays["basket"],
            stats={},
        )

    # ------------------------------------------------------------------ train
    def train(self, job: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        inter = self._load_interactions(version)
        now_ts = float(job["nowTs"])
        full = confidence_matrix(
            inter, self.config.event_weights, now_ts=now_ts, half_life_days=self.config.half_life_days
        )
        similarity = itemknn.cosine_item_similarity(full, self.config.neighbours)
        prefix = _prefix(version)
        _save_npz(
            self.deps.artifacts,
            prefix + "model/full.npz",
            sim_data=similarity.data,
            sim_indices=similarity.indices,
            sim_indptr=similarity.indptr,
            shape=np.asarray(similarity.shape),
        )
        users_with_history = int((np.diff(full.indptr) > 0).sum())
        shards: list[dict[str, Any]] = [
            {"kind": "users", "start": start, "stop": min(start + self.config.shard_users, inter.n_users)}
            for start in range(0, inter.n_users, self.config.shard_users)
        ]
        shards.append({"kind": "items"})
        return {
            **job,
            "shards": shards,
            "trained": {"model": "itemknn", "usersWithHistory": users_with_history},
        }

    # ------------------------------------------------------------------ evaluate and gate
    def evaluate(self, job: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        inter = self._load_interactions(version)
        now_ts = float(job["nowTs"])
        cutoff = now_ts - self.config.holdout_days * SECONDS_PER_DAY
        train_mask = inter.timestamp < cutoff
        train = confidence_matrix(
            inter,
            self.config.event_weights,
            now_ts=cutoff,
            half_life_days=self.config.half_life_days,
            mask=train_mask,
        )
        test = confidence_matrix(inter, self.config.event_weights, now_ts=now_ts, mask=~train_mask)
        # Relevant = holdout items the user had not interacted with before (what we can recommend).
        test = test - test.multiply(train > 0)
        test.eliminate_zeros()
        users = np.flatnonzero((np.diff(test.indptr) > 0) & (np.diff(train.indptr) > 0))
        report: dict[str, Any] = {"holdoutDays": self.config.holdout_days, "evaluatedUsers": int(users.size)}
        if users.size == 0:
            report.update({"model": None, "popularity": None})
            passed, why = False, "no users to evaluate in the holdout"
        else:
            similarity = itemknn.cosine_item_similarity(train, self.config.neighbours)
            scores = itemknn.score_users(train, similarity, users)
            seen = train[users].toarray() > 0
            scores[seen] = -np.inf
            model_top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
            pop = lists.popularity(train)
            pop_scores = np.tile(pop, (users.size, 1))
            pop_scores[seen] = -np.inf
            pop_top = np.argsort(-pop_scores, axis=1, kind="stable")[:, :10]
            relevant = test[users]
            report["model"] = ranking_metrics(model_top, relevant, inter.n_items, k=10)
            report["popularity"] = ranking_metrics(pop_top, relevant, inter.n_items, k=10)
            passed, why = self._gate(report)
        current = self._current_report()
        report["current"] = current
        _save_json(self.deps.artifacts, _prefix(version) + "evaluation.json", report)
        return {
            **job,
            "evaluation": {k: report[k] for k in ("model", "popularity", "evaluatedUsers")},
            "gate": {"passed": passed, "reason": why},
        }

    def _current_report(self) -> dict[str, Any] | None:
        pointer = self.deps.model_table.get(*POINTER_KEY)
        if not pointer:
            return None
        meta = self.deps.model_table.get(*version_meta_key(pointer["modelVersion"]))
        if not meta or "evaluation" not in meta:
            return None
        report: dict[str, Any] = json.loads(meta["evaluation"])
        return report

    def _gate(self, report: dict[str, Any]) -> tuple[bool, str]:
        model, popular = report["model"]["ndcg@10"], report["popularity"]["ndcg@10"]
        if model <= popular:
            return False, f"NDCG@10 {model:.4f} does not beat popularity {popular:.4f}"
        current = self._current_report()
        if current and current.get("model"):
            floor = current["model"]["ndcg@10"] * (1 - self.config.gate_max_regression)
            if model < floor:
                return False, f"NDCG@10 {model:.4f} is below the current version's floor {floor:.4f}"
        return True, f"NDCG@10 {model:.4f} beats popularity {popular:.4f}"

    # ------------------------------------------------------------------ publish
    def publish_shard(self, job: dict[str, Any], shard: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        inter = self._load_interactions(version)
        if shard["kind"] == "items":
            return {"kind": "items", "rows": self._publish_items(job, inter)}
        return {
            "kind": "users",
            "rows": self._publish_users(job, inter, int(shard["start"]), int(shard["stop"])),
        }

    def _expires(self, job: dict[str, Any]) -> int:
        return int(float(job["nowTs"]) + self.config.version_ttl_days * SECONDS_PER_DAY)

    def _publish_users(self, job: dict[str, Any], inter: Interactions, start: int, stop: int) -> int:
        version = job["modelVersion"]
        arrays = _load_npz(self.deps.artifacts, _prefix(version) + "model/full.npz")
        similarity = sp.csr_matrix(
            (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]), shape=tuple(arrays["shape"])
        )
        full = confidence_matrix(
            inter,
            self.config.event_weights,
            now_ts=float(job["nowTs"]),
            half_life_days=self.config.half_life_days,
        )
        purchases = confidence_matrix(
            inter, {"purchase": 1.0}, now_ts=float(job["nowTs"]), mask=inter.event == PURCHASE_CODE
        )
        rows: list[dict[str, Any]] = []
        users = np.arange(start, stop, dtype=np.int64)
        block = 2048
        for offset in range(0, users.size, block):
            chunk = users[offset : offset + block]
            scores = itemknn.score_users(full, similarity, chunk)
            bought = purchases[chunk].toarray() > 0
            scores[bought] = 0.0
            for row_index, user in enumerate(chunk):
                ranked = lists.top_indices(scores[row_index], self.config.top_k)
                if not ranked:
                    continue
                items = [(inter.items[i], s, Reason.SIMILAR_USERS.value) for i, s in ranked]
                rows.append(
                    list_row(
                        user_pk(inter.users[int(user)]),
                        version,
                        items,
                        job["generatedAt"],
                        self._expires(job),
                    )
                )
        return self.deps.model_table.put_many(rows)

    def _publish_items(self, job: dict[str, Any], inter: Interactions) -> int:
        version = job["modelVersion"]
        now_ts = float(job["nowTs"])
        arrays = _load_npz(self.deps.artifacts, _prefix(version) + "model/full.npz")
        similarity = sp.csr_matrix(
            (arrays["sim_data"], arrays["sim_indices"], arrays["sim_indptr"]), shape=tuple(arrays["shape"])
        )
        full = confidence_matrix(
            inter, self.config.event_weights, now_ts=now_ts, half_life_days=self.config.half_life_days
        )
        available = np.ones(inter.n_items, dtype=bool)
        expires = self._expires(job)
        generated = job["generatedAt"]
        rows: list[dict[str, Any]] = []

        def add(pk: str, ranked: list[tuple[int, float]], reason: Reason) -> None:
            if ranked:
                items = [(inter.items[i], s, reason.value) for i, s in ranked]
                rows.append(list_row(pk, version, items, generated, expires))

        for item in range(inter.n_items):
            start, stop = similarity.indptr[item], similarity.indptr[item + 1]
            ranked = sorted(
                zip(
                    similarity.indices[start:stop].tolist(), similarity.data[start:stop].tolist(), strict=True
                ),
                key=lambda pair: -pair[1],
            )[: self.config.similar_k]
            add(similar_pk(inter.items[item]), [(int(i), float(s)) for i, s in ranked], Reason.SIMILAR_ITEMS)
        for item, ranked in lists.bought_together(inter, self.config.similar_k, available).items():
            add(bought_together_pk(inter.items[item]), ranked, Reason.BOUGHT_TOGETHER)
        pop = lists.popularity(full)
        weights = interaction_weights(inter, self.config.event_weights, now_ts=now_ts, half_life_days=None)
        trend = lists.trending(inter, weights, now_ts)
        add(popular_pk(ALL_CATEGORIES), lists.top_indices(pop, self.config.list_k, available), Reason.POPULAR)
        add(
            trending_pk(ALL_CATEGORIES),
            lists.top_indices(trend, self.config.list_k, available),
            Reason.TRENDING,
        )
        for category, ranked in lists.per_category(
            pop, inter.item_category, self.config.list_k, available
        ).items():
            add(popular_pk(category), ranked, Reason.CATEGORY_POPULAR)
        for category, ranked in lists.per_category(
            trend, inter.item_category, self.config.list_k, available
        ).items():
            add(trending_pk(category), ranked, Reason.TRENDING)
        rows.append(
            {
                "pk": CATALOG_PK,
                "sk": version_sk(version),
                "v": version,
                "expiresAt": expires,
                "d": json.dumps({p: c for p, c in zip(inter.items, inter.item_category, strict=True) if c}),
            }
        )
        return self.deps.model_table.put_many(rows)

    # ------------------------------------------------------------------ flip and clean up
    def flip(self, job: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        published = job.get("published") or []
        if not any(p.get("kind") == "items" and p.get("rows", 0) > 0 for p in published):
            raise TrainingError("the items shard wrote nothing; refusing to flip")
        user_rows = sum(int(p.get("rows", 0)) for p in published if p.get("kind") == "users")
        previous = self.deps.model_table.get(*POINTER_KEY)
        evaluation = _load_json(self.deps.artifacts, _prefix(version) + "evaluation.json")
        now = self.deps.clock()
        self.deps.model_table.put(
            {
                "pk": version_meta_key(version)[0],
                "sk": "META",
                "status": "published",
                "publishedAt": iso(now),
                "userRows": user_rows,
                "evaluation": json.dumps(evaluation),
                "generatedAt": job["generatedAt"],
                "weights": json.dumps(self.config.event_weights),
                "stats": json.dumps(job.get("stats", {})),
            }
        )
        self._warm_cache(version)
        self.deps.model_table.put(
            {
                "pk": POINTER_KEY[0],
                "sk": POINTER_KEY[1],
                "modelVersion": version,
                "generatedAt": job["generatedAt"],
                "previousVersion": previous["modelVersion"] if previous else None,
                "flippedAt": iso(now),
            }
        )
        return {
            **job,
            "flipped": {"previous": previous["modelVersion"] if previous else None, "userRows": user_rows},
            "published": None,
        }

    def _warm_cache(self, version: str) -> None:
        if not self.deps.cache.enabled:
            return
        keys = [
            (popular_pk(ALL_CATEGORIES), version_sk(version)),
            (trending_pk(ALL_CATEGORIES), version_sk(version)),
        ]
        values = {
            cache_key(version, row["pk"]): str(row["d"]).encode()
            for row in self.deps.model_table.get_many(keys)
            if row
        }
        self.deps.cache.set_many(values, self.deps.cache_ttl_seconds)

    def cleanup(self, job: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        removed = self.deps.artifacts.delete(
            list(self.deps.artifacts.list_keys(_prefix(version) + "prepared/"))
        )
        return {**job, "cleanedUp": {"intermediateObjects": removed}}

    # ------------------------------------------------------------------ failure paths
    def record_failure(self, job: dict[str, Any]) -> dict[str, Any]:
        error = job.get("error") or {}
        version = job.get("modelVersion")
        if version:
            self.deps.model_table.put(
                {
                    "pk": version_meta_key(version)[0],
                    "sk": "META",
                    "status": "failed",
                    "error": str(error.get("Error", "unknown")),
                    "failedAt": iso(self.deps.clock()),
                    "expiresAt": self._expires(job) if "nowTs" in job else None,
                }
            )
        return {**job, "alert": f"training run failed: {error.get('Error', 'unknown')}"}

    def record_refusal(self, job: dict[str, Any]) -> dict[str, Any]:
        version = job["modelVersion"]
        gate = job.get("gate") or {}
        self.deps.model_table.put(
            {
                "pk": version_meta_key(version)[0],
                "sk": "META",
                "status": "refused",
                "reason": str(gate.get("reason")),
                "evaluation": json.dumps(job.get("evaluation")),
                "expiresAt": self._expires(job),
            }
        )
        return {**job, "alert": f"model {version} refused: {gate.get('reason')}"}
