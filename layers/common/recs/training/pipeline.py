"""The steps of the training workflow, each a function of the job document Step Functions passes.

take_lease -> prepare -> train -> evaluate -> (gate) -> publish shards (Distributed Map) -> (a
large shop: start_import -> check_import, `recs.training.publish.table_imports`) -> flip ->
cleanup, plus record_failure / record_refusal on the failure paths (`recs.training.lease`: one
run at a time). Large data moves through the
artifact store under ``models/<version>/`` (`recs.training.publish.artifacts`); the job document stays
small (Step Functions' 256 KB payload limit). The model is built by `recs.training.build`, the
same code the offline command runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recs.catalog.feed import CatalogFeed
from recs.engine import UserKNN
from recs.ports import Cache, KeyValueTable, ListsTables, ObjectStore, PrivacyRecords
from recs.pseudonyms import Pseudonyms
from recs.store_layout import (
    ALL_CATEGORIES,
    ATTRIBUTES_PK,
    AVAILABILITY_KEY,
    CATALOG_PK,
    LISTS_TABLE_ATTRIBUTE,
    cache_key,
    catalog_part_keys,
    category_map_payload,
    iso,
    list_row,
    lists_table_name,
    popular_pk,
    purchased_pk,
    trending_pk,
    user_pk,
    version_sk,
)
from recs.training.build import TrainedVersion, evaluate_version, family_of, train_version
from recs.training.deadline import Deadline
from recs.training.errors import PublishIncompleteError, TrainingError
from recs.training.evaluate.search import searched_values
from recs.training.fit.fitting import FittedModel, with_factors
from recs.training.fit.ranking import FactorScorer, ItemWeightScorer, NeighbourScorer, Scorer, rank
from recs.training.lease import TrainingLease
from recs.training.parameters import TrainingParameters
from recs.training.prepare.interactions import Interactions
from recs.training.privacy.artifact_scrub import ArtifactScrubber
from recs.training.publish import artifacts as paths
from recs.training.publish.artifacts import VersionArtifacts
from recs.training.publish.changes import ShardHashes, bucket_of, changed_rows, hashes_of, shard_count
from recs.training.publish.model_versions import ModelVersions
from recs.training.publish.publishing import (
    SHOP_WIDE_LISTS,
    catalog_rows,
    item_list_rows,
    list_pks,
    purchased_rows,
    user_list_rows,
)
from recs.training.publish.sparse_arrays import csr_arrays, csr_from
from recs.training.publish.table_imports import TableImports, imports_users
from recs.training.workflow import (
    AlertedJob,
    CleanedJob,
    EvaluatedJob,
    FailedJob,
    FlippedJob,
    GateDecision,
    LeaseGrant,
    LeaseRequest,
    ListsPublishedJob,
    PreparedJob,
    PublishedJob,
    PublishPlan,
    RefusedJob,
    Shard,
    ShardsRef,
    ShardWritten,
    TrainedJob,
)

SECONDS_PER_DAY = 86_400.0
_METRIC_KEYS = ("k", "precision", "recall", "ndcg", "coverage", "users")
#: What the job document keeps of the search (its trials stay in the artifacts).
#: Why a run on the Spark engine did not search (`PreparedJob.spark.chosen` says what it used).
SPARK_SEARCH_SKIPPED = (
    "trained on Spark: the search runs on one machine only, so this run fitted the serving "
    "version's choice (or the configured values)"
)
_SEARCH_SUMMARY = ("validationNdcg", "baselines", "fits", "stoppedBy", "skipped")


@dataclass(frozen=True)
class PipelineConfig:
    lake_prefix: str
    params: TrainingParameters
    #: Imported tables are named <prefix>-<version> (`recs.training.publish.table_imports`).
    lists_table_prefix: str = ""


@dataclass
class TrainingDeps:
    artifacts: ObjectStore
    model_table: KeyValueTable
    privacy: PrivacyRecords
    cache: Cache
    pseudonyms: Pseudonyms
    clock: Callable[[], datetime]
    cache_ttl_seconds: int
    lease: TrainingLease
    #: The per-version tables users' rows are imported into (None: this function never imports).
    lists_tables: ListsTables | None = None


class TrainingPipeline:
    def __init__(self, config: PipelineConfig, deps: TrainingDeps) -> None:
        self.config = config
        self.params = config.params
        self.deps = deps
        self.versions = ModelVersions(deps.model_table)
        if self.params.import_table_min_users and not config.lists_table_prefix:
            raise TrainingError("IMPORT_TABLE_MIN_USERS needs LISTS_TABLE_PREFIX (the tables' names)")

    def _artifacts(self, job: PreparedJob) -> VersionArtifacts:
        return VersionArtifacts(self.deps.artifacts, job.modelVersion)

    def _expires(self, end_ts: float) -> int:
        """When rows written for a run ending at `end_ts` expire (DynamoDB TTL)."""
        return int(end_ts + self.params.version_ttl_days * SECONDS_PER_DAY)

    # ------------------------------------------------------------------ lease
    def take_lease(self, request: LeaseRequest) -> LeaseGrant:
        """The training lease for this execution, or `TrainingInProgressError` naming its holder."""
        return LeaseGrant.model_validate(self.deps.lease.take(request.executionName))

    def _load_prepared(self, job: PreparedJob) -> tuple[Interactions, npt.NDArray[np.bool_], dict[str, Any]]:
        store = self._artifacts(job)
        arrays = store.get_arrays(paths.PREPARED_INTERACTIONS)
        ids = store.get_json(paths.PREPARED_IDS)
        interactions = Interactions(
            users=ids["users"],
            is_user=arrays["is_user"],
            items=ids["items"],
            item_category=ids["itemCategory"],
            user=arrays["user"],
            item=arrays["item"],
            event=arrays["event"],
            timestamp=arrays["timestamp"],
            quantity=arrays["quantity"],
            basket=arrays["basket"],
            weight=arrays.get("weight"),
        )
        return interactions, arrays["unavailable"], ids

    # ------------------------------------------------------------------ train
    def train(self, job: PreparedJob, *, deadline: Deadline | None = None) -> TrainedJob:
        """Search the parameters, fit on the whole window; store the model, the item lists and
        the publish shards. ``deadline``: when the invocation ends (the search leaves time for
        the rest of the step: `recs.training.evaluate.search.Budget`)."""
        interactions, unavailable, _ = self._load_prepared(job)
        end_ts = job.endTs
        spark_params: TrainingParameters | None = None
        fitted: FittedModel | None = None
        if job.engine == "spark":
            # The factors come from the Spark job, fitted with the parameters Prepare chose.
            spark_params = self._spark_params(job)
            fitted = self._spark_model(job, spark_params, "full")
        trained = train_version(
            interactions,
            unavailable,
            interactions.item_category,
            self.params,
            end_ts=end_ts,
            chosen=spark_params,
            start=None if fitted else self._previous_choice(),
            fitted=fitted,
            deadline=deadline,
        )
        chosen = searched_values(trained.params)
        selection = trained.selection
        if job.engine == "spark":
            selection = {"skipped": SPARK_SEARCH_SKIPPED}
        store = self._artifacts(job)
        store.put_bytes(paths.MODEL, trained.model.to_bytes())
        store.put_json(paths.MODEL_IDS, {"users": interactions.users, "items": interactions.items})
        store.put_json(
            paths.PARAMETERS,
            {
                "family": trained.family,
                "engine": trained.model.engine_params,
                "training": trained.params.recorded(),
                "configured": self.params.recorded(),
                "eventWeights": self.params.event_weights,
                "search": selection,
            },
        )
        store.put_json_gz(paths.ITEM_LISTS, trained.item_lists.to_json(interactions.items))
        store.put_arrays(
            paths.ITEM_SIDE,
            family=np.array(trained.family),
            items=np.array(interactions.items),
            unavailable=unavailable,
            **self._item_side_arrays(trained.model.model),
        )

        known = np.flatnonzero(interactions.is_user).astype(np.int64)
        # Users go to shards by a hash of their pseudonym, so a shard holds the same users run
        # after run and a delta compares it with the base's shard of the same name.
        shards = shard_count(known.size, self.params.shard_users)
        bucket = bucket_of([interactions.users[int(u)] for u in known], shards)
        manifest: list[dict[str, Any]] = []
        for number in range(shards):
            users = known[bucket == number]
            name = f"users-{number:05d}"
            self._save_user_shard(store, name, trained, interactions, users)
            manifest.append({"kind": "users", "name": name, "users": int(users.size)})
        manifest.append({"kind": "items", "name": "items"})
        store.put_json(paths.SHARD_MANIFEST, manifest)
        counts = np.bincount(interactions.user, minlength=interactions.n_users)[known]
        most_active = known[np.argsort(-counts, kind="stable")[: self.params.cache_warm_users]]
        store.put_json(paths.ACTIVE_USERS, [interactions.users[int(u)] for u in most_active])
        self._update_meta(job.modelVersion, job.endTs, chosen=json.dumps(chosen))
        search = selection or {}
        return TrainedJob(
            **job.model_dump(),
            family=trained.family,
            chosen=chosen,
            search={
                key: search.get(key)
                for key in ("validationNdcg", "baselines", "fits", "stoppedBy", "skipped")
            },
            shards=ShardsRef(manifestKey=store.key(paths.SHARD_MANIFEST), count=len(manifest)),
            publish=self._publish_plan(job, shards, users=int(known.size)),
        )

    # ------------------------------------------------------------------ the container path
    def train_in_container(self, job: PreparedJob) -> EvaluatedJob:
        """Train and Evaluate in one go, as the training container runs them (one large machine,
        no 15-minute limit), storing the document they end with for `container_result`."""
        if job.engine != "container":
            raise TrainingError(f"{job.modelVersion} was not prepared for the container engine")
        evaluated = self.evaluate(self.train(job))
        self._artifacts(job).put_json(paths.CONTAINER_RESULT, evaluated.to_state())
        return evaluated

    def container_result(self, job: PreparedJob) -> EvaluatedJob:
        """What the training container's train and evaluate ended with, for the Gate."""
        store = self._artifacts(job)
        if not store.exists(paths.CONTAINER_RESULT):
            raise TrainingError(
                f"the training container stored no result for {job.modelVersion} "
                f"({store.key(paths.CONTAINER_RESULT)})"
            )
        evaluated = EvaluatedJob.model_validate(store.get_json(paths.CONTAINER_RESULT))
        if evaluated.modelVersion != job.modelVersion:
            raise TrainingError(
                f"the training container's result is for {evaluated.modelVersion}, not {job.modelVersion}"
            )
        return evaluated

    def _publish_plan(self, job: PreparedJob, shards: int, users: int = 0) -> PublishPlan:
        """Above `IMPORT_TABLE_MIN_USERS` users, a full publish imported into a table of its own.
        Else a delta of the serving version's base when there is one to compare with: published
        with its row hashes into the model table, in as many shards, younger than
        `FULL_PUBLISH_DAYS`; else full."""
        full = PublishPlan(mode="full", baseVersion=job.modelVersion, shards=shards)
        if imports_users(self.params.import_table_min_users, users):
            table = lists_table_name(self.config.lists_table_prefix, job.modelVersion)
            return full.model_copy(update={"importTable": table})
        pointer = self.versions.pointer()
        if not self.params.publish_changes_only or pointer is None or pointer.get("listsOnly"):
            return full
        base = str(pointer.get("baseVersion") or pointer["modelVersion"])
        meta = self.versions.meta(base) or {}
        if meta.get("status") != "published" or int(meta.get("hashShards", 0)) != shards:
            return full
        if meta.get(LISTS_TABLE_ATTRIBUTE):
            return full  # a delta's rows and its base's would be in two tables
        if job.endTs - float(meta.get("baseEndTs", 0.0)) >= self.params.full_publish_days * SECONDS_PER_DAY:
            return full
        return PublishPlan(mode="delta", baseVersion=base, shards=shards)

    def _previous_choice(self) -> dict[str, Any] | None:
        """Where this run's search starts: the serving version's choice (when it has one)."""
        chosen = self.versions.current_json("chosen")
        return chosen if isinstance(chosen, dict) else None

    def _spark_params(self, job: PreparedJob) -> TrainingParameters:
        """The parameters the Spark job fitted with (Prepare chose them: no search on this path)."""
        if job.spark is None:
            raise TrainingError(f"{job.modelVersion} has the Spark engine but no Spark run")
        return self.params.model_copy(update=dict(job.spark.chosen))

    def _spark_model(self, job: PreparedJob, params: TrainingParameters, part: str) -> FittedModel:
        """The ALS model of the factors the Spark job fitted on ``part`` (ImportFactors' matrices)."""
        factors = self._artifacts(job).get_arrays(paths.SPARK_FACTORS_ARRAYS)
        return with_factors(params, factors[f"{part}_users"], factors[f"{part}_items"])

    def _chosen_params(self, job: TrainedJob) -> TrainingParameters:
        """The parameters Train chose (the job document carries them to Evaluate)."""
        return self.params.model_copy(update=dict(job.chosen))

    @staticmethod
    def _item_side_arrays(model: Any) -> dict[str, Any]:
        """What every user shard scores against: item factors, EASE weights or the neighbours."""
        if isinstance(model, UserKNN):
            return {}  # the shards read the neighbours from model/model.npz (one copy to scrub)
        if getattr(model, "item_factors", None) is not None:
            return {"item_factors": model.item_factors}
        return {"item_weights": model.item_weights}

    def _save_user_shard(
        self,
        store: VersionArtifacts,
        name: str,
        trained: TrainedVersion,
        interactions: Interactions,
        users: npt.NDArray[np.int64],
    ) -> None:
        signals = trained.signals
        user_side = trained.model.user_side(users, signals.confidence[users], signals.profile[users])
        arrays: dict[str, Any] = {}
        for key, value in user_side.items():
            arrays.update(csr_arrays(key, value) if sp.issparse(value) else {key: value})
        store.put_arrays(
            paths.shard_key(name),
            users=np.array([interactions.users[int(u)] for u in users]),
            **arrays,
            **csr_arrays("exclude", signals.exclude[users]),
            **csr_arrays("boost", signals.boost[users]),
            # What serving filters out of every list: the purchases the version never shows.
            **csr_arrays("purchases", _never_shown(signals.purchase_days[users], signals.exclude[users])),
        )

    # ------------------------------------------------------------------ evaluate and gate
    def evaluate(self, job: TrainedJob) -> EvaluatedJob:
        """Holdout metrics against popularity (and the serving version); the gate's decision."""
        interactions, unavailable, _ = self._load_prepared(job)
        chosen = self._chosen_params(job)
        family = family_of(chosen)
        evaluation = evaluate_version(
            interactions,
            unavailable,
            chosen,
            end_ts=job.endTs,
            family=family,
            current_lift=self._current_lift(),
            fitted=self._spark_model(job, chosen, "holdout") if job.engine == "spark" else None,
        )
        report = {
            "modelVersion": job.modelVersion,
            **evaluation.as_dict(),
            "parameters": chosen.recorded(),
        }
        self._artifacts(job).put_json(paths.EVALUATION, report)
        summary = {
            "model": _small_metrics(evaluation.model_metrics),
            "popularity": _small_metrics(evaluation.report.popularity),
            "liftOverPopularity": evaluation.decision.lift,
            "evaluatedUsers": evaluation.report.evaluated_users,
        }
        self._update_meta(job.modelVersion, job.endTs, status="evaluated", evaluation=json.dumps(summary))
        return EvaluatedJob(
            **job.model_dump(),
            evaluation=summary,
            gate=GateDecision(passed=evaluation.decision.passed, reason=evaluation.decision.reason),
        )

    def _current_lift(self) -> float | None:
        evaluation = self.versions.current_json("evaluation")
        lift = evaluation.get("liftOverPopularity") if isinstance(evaluation, dict) else None
        return float(lift) if lift is not None else None

    # ------------------------------------------------------------------ publish
    def publish_shard(self, job: EvaluatedJob, shard: Shard) -> ShardWritten:
        """Write one shard's rows (a delta: only those that changed since the base); only when
        every row is stored, record that the shard is done."""
        store = self._artifacts(job)
        name = shard.name
        unchanged = 0
        if shard.kind == "items":
            rows = self._item_rows(job, store)
        else:
            rows, unchanged = self._user_rows_to_write(job, store, name)
        if shard.kind == "users" and job.publish.importTable:
            written = self._write_import_file(store, name, rows)
        else:
            written = self.versions.put_rows(rows)
        marker = ShardWritten(rows=written, expected=len(rows), shard=name, unchanged=unchanged)
        store.put_json(paths.published_key(name), marker.to_state())
        return marker

    def _write_import_file(self, store: VersionArtifacts, name: str, rows: list[dict[str, Any]]) -> int:
        """The shard's rows as an import file (none for a shard without rows); how many it holds."""
        if rows:
            store.put_bytes(paths.import_key(name), self._lists_tables().import_file(rows))
        return len(rows)

    def _lists_tables(self) -> ListsTables:
        if self.deps.lists_tables is None:
            raise TrainingError("this run imports its users' rows, but the function has no lists tables")
        return self.deps.lists_tables

    def _table_imports(self) -> TableImports:
        return TableImports(
            self._lists_tables(),
            self.versions,
            warm_read_units=self.params.import_warm_read_units,
            keep_days=self.params.import_table_keep_days,
        )

    # ------------------------------------------------------------------ import (a large shop)
    def start_import(self, job: PublishedJob) -> PublishedJob:
        """Start the ImportTable of the shards' import files into the run's own table."""
        table = job.publish.importTable
        if not table:
            raise TrainingError(f"{job.modelVersion} does not import its users' rows")
        prefix = self._artifacts(job).key(paths.IMPORT)
        started = self._table_imports().start(job.modelVersion, table, prefix, self.deps.clock().timestamp())
        return job.model_copy(update={"tableImport": started})

    def check_import(self, job: PublishedJob) -> PublishedJob:
        """The import once done (retried by Step Functions while it runs)."""
        if job.tableImport is None:
            raise TrainingError(f"{job.modelVersion} has no import to check")
        return job.model_copy(update={"tableImport": self._table_imports().check(job.tableImport)})

    def _personal_table(self, table: str | None) -> KeyValueTable:
        """Where a version's users' rows are: its imported table, else the model table."""
        return self._lists_tables().rows(table) if table else self.deps.model_table

    def _user_rows_to_write(
        self, job: EvaluatedJob, store: VersionArtifacts, name: str
    ) -> tuple[list[dict[str, Any]], int]:
        """A full publish: every row, and the shard's row hashes kept for later deltas. A delta:
        the rows that differ from the base's (`recs.training.publish.changes`)."""
        users, rows = self._user_rows(job, store, name)
        lists = {
            row["pk"].removeprefix(user_pk("")): row for row in rows if row["pk"].startswith(user_pk(""))
        }
        bought = {
            row["pk"].removeprefix(purchased_pk("")): row
            for row in rows
            if row["pk"].startswith(purchased_pk(""))
        }
        if job.publish.mode == "full":
            store.put_arrays(paths.hashes_key(name), **hashes_of(users, lists, bought).to_arrays())
            return rows, 0
        base = VersionArtifacts(self.deps.artifacts, job.publish.baseVersion)
        generated, expires, version = job.generatedAt, self._expires(job.endTs), job.modelVersion

        def empty(kind: str, user: str) -> dict[str, Any]:
            pk = user_pk(user) if kind == "list" else purchased_pk(user)
            return list_row(pk, version, [], generated, expires)

        delta = changed_rows(
            users, lists, bought, ShardHashes.from_arrays(base.get_arrays(paths.hashes_key(name))), empty
        )
        return delta.rows, delta.unchanged

    def _user_rows(
        self, job: PreparedJob, store: VersionArtifacts, name: str
    ) -> tuple[list[str], list[dict[str, Any]]]:
        shard = store.get_arrays(paths.shard_key(name))
        item_side = store.get_arrays(paths.ITEM_SIDE)
        unavailable = item_side["unavailable"]
        scorer: Scorer
        if "item_factors" in item_side:
            scorer = FactorScorer(shard["user_factors"], item_side["item_factors"])
        elif str(item_side["family"]) == "knn":
            scorer = self._neighbour_scorer(store, shard)
        else:
            scorer = ItemWeightScorer(csr_from(shard, "history"), item_side["item_weights"])
        lists = rank(
            scorer,
            self.params.top_k,
            exclude=csr_from(shard, "exclude"),
            unavailable=unavailable,
            boost=csr_from(shard, "boost"),
            # The shard's boost already carries the chosen weight, per user (recs.training.fit.signals).
            boost_weight=1.0,
        )
        users = [str(u) for u in shard["users"].tolist()]
        items = [str(item) for item in item_side["items"].tolist()]
        generated, expires, version = job.generatedAt, self._expires(job.endTs), job.modelVersion
        rows = user_list_rows(users, items, lists, version, generated, expires)
        rows.extend(purchased_rows(users, items, csr_from(shard, "purchases"), version, generated, expires))
        return users, rows

    @staticmethod
    def _neighbour_scorer(store: VersionArtifacts, shard: dict[str, Any]) -> NeighbourScorer:
        """User-kNN for a shard: the model's rows, each shard user left out of its own neighbours
        (found by pseudonym, so a scrubbed model and its ids stay in step)."""
        neighbours = FittedModel.from_bytes(store.get_bytes(paths.MODEL)).model
        assert isinstance(neighbours, UserKNN)
        row_of = {user: row for row, user in enumerate(store.get_json(paths.MODEL_IDS)["users"])}
        self_rows = np.array([row_of.get(str(u), -1) for u in shard["users"].tolist()], dtype=np.int64)
        return NeighbourScorer(neighbours, csr_from(shard, "history"), self_rows)

    def _item_rows(
        self, job: PreparedJob, store: VersionArtifacts, *, shop_wide_only: bool = False
    ) -> list[dict[str, Any]]:
        item_lists = store.get_json_gz(paths.ITEM_LISTS)
        if shop_wide_only:
            item_lists = {kind: item_lists.get(kind, {}) for kind in SHOP_WIDE_LISTS}
        ids = store.get_json(paths.PREPARED_IDS)
        generated, expires, version = job.generatedAt, self._expires(job.endTs), job.modelVersion
        rows = item_list_rows(item_lists, version, generated, expires)
        categories = {**ids["catalog"]}
        categories.update({p: c for p, c in zip(ids["items"], ids["itemCategory"], strict=True) if c})
        rows.extend(
            catalog_rows(
                categories,
                ids["unavailable"] if ids["catalogPresent"] else None,
                version,
                generated,
                expires,
                catalog_version=self._catalog_version(),
                # Brands, prices and tags of the export (absent from a run prepared before they were kept).
                attributes=ids.get("attributes"),
            )
        )
        return rows

    def _refresh_catalog(self) -> dict[str, Any]:
        """New arrivals and attribute-similar lists against the model now serving (the catalog
        feed's code, `recs.catalog.feed`). The pointer has already moved, so a fault here is
        reported in the run's output and does not undo the run; the next upload retries."""
        feed = CatalogFeed(
            self.deps.artifacts, self.deps.model_table, self.deps.clock, ttl_days=self.params.version_ttl_days
        )
        if not feed.has_catalog():
            return {"skipped": "no catalog export"}
        try:
            return asdict(feed.refresh())
        except Exception as error:
            return {"error": type(error).__name__}

    def _catalog_version(self) -> str | None:
        """The catalog feed's current version (kept when training rewrites availability)."""
        row = self.versions.read_rows([AVAILABILITY_KEY])[0]
        return str(row["catalogVersion"]) if row and row.get("catalogVersion") else None

    # ------------------------------------------------------------------ a refused run's lists
    def publish_lists(self, job: EvaluatedJob) -> ListsPublishedJob:
        """A run the gate refused still refreshes what needs no model: popular and trending
        lists (shop-wide and per category) and the catalog's category map and availability.
        Personal lists and similar items stay with the version that last passed the gate; a shop
        with no version yet starts serving these lists (every request then gets a 200)."""
        store = self._artifacts(job)
        rows = self._item_rows(job, store, shop_wide_only=True)
        written = self.versions.put_rows(rows)
        if written != len(rows):
            raise PublishIncompleteError(f"shop-wide lists: {written} of {len(rows)} rows stored")
        version = job.modelVersion
        shared = [popular_pk(ALL_CATEGORIES), trending_pk(ALL_CATEGORIES), CATALOG_PK]
        warmed = self._warm_shared(version, shared)
        now = iso(self.deps.clock())
        bootstrapped = self.versions.refresh_lists(version, job.generatedAt, now)
        self._update_meta(version, job.endTs, listsPublishedAt=now, rows=written)
        renewed = self.renew_serving()
        catalog = self._refresh_catalog()
        return ListsPublishedJob(
            **job.model_dump(),
            lists={
                "rows": written,
                "cacheWarmed": warmed,
                "bootstrapped": bootstrapped,
                "renewedRows": sum(renewed.values()),
                "catalogFeed": catalog,
            },
        )

    def _warm_shared(self, version: str, pks: list[str]) -> int:
        return self._put_in_cache(version, self.versions.read_rows([(pk, version_sk(version)) for pk in pks]))

    def _put_in_cache(self, version: str, rows: list[dict[str, Any] | None]) -> int:
        """The rows that were read, in the cache under the version's keys; how many were put. A
        category map is put whole, its other parts read first (serving caches it the same way)."""
        values = {cache_key(version, row["pk"]): self._cached_value(row) for row in rows if row is not None}
        if self.deps.cache.enabled and values:
            self.deps.cache.set_many(values, self.deps.cache_ttl_seconds)
        return len(values) if self.deps.cache.enabled else 0

    def _cached_value(self, row: dict[str, Any]) -> bytes:
        if row["pk"] != CATALOG_PK:
            return str(row["d"]).encode()
        others = self.versions.read_rows(catalog_part_keys(row))
        if any(part is None for part in others):
            raise PublishIncompleteError(f"the category map of {row.get('v')} misses parts")
        return category_map_payload([row, *[part for part in others if part is not None]])

    # ------------------------------------------------------------------ serving versions never expire
    def renew_serving(self) -> dict[str, int]:
        """Push back the expiry of the rows that serve, when it is near.

        Rows carry `expiresAt` (DynamoDB TTL) from their own run: `VERSION_TTL_DAYS` after it.
        A version stays current until a run passes the gate, so after weeks of refused or failed
        runs the serving rows would expire while they serve. Every run that does not flip
        (PublishLists, RecordFailure) calls this: when the serving version's META says its rows
        expire within `VERSION_RENEW_DAYS`, each of its rows is read and written back with a new
        expiry (rows privacy deleted in the meantime stay deleted, and visitors who opted out or
        were erased since are removed again after the write). The shop-wide lists' version is
        renewed the same way. Returns the rows renewed per version (empty: nothing was near).
        """
        pointer = self.versions.pointer()
        if pointer is None:
            return {}
        now = self.deps.clock().timestamp()
        horizon = now + self.params.version_renew_days * SECONDS_PER_DAY
        model = str(pointer["modelVersion"])
        lists = str(pointer.get("listsVersion") or model)
        base = str(pointer.get("baseVersion") or model)
        # A delta's unchanged users are served the base's rows: they must not expire either.
        plan = {model: False, base: False}
        if lists not in plan:
            plan[lists] = True
        renewed: dict[str, int] = {}
        for version, shop_wide_only in plan.items():
            meta = self.versions.meta(version) or {}
            if int(meta.get("expiresAt", 0)) > horizon:
                continue
            expires_at = self._expires(now)
            store = VersionArtifacts(self.deps.artifacts, version)
            # An imported table's rows never expire (the table has no TTL): Cleanup deletes it.
            imported = str(meta.get(LISTS_TABLE_ATTRIBUTE) or "") or None
            keys = self._version_keys(version, store, shop_wide_only=shop_wide_only, users=not imported)
            renewed[version] = self.versions.renew(keys, expires_at)
            # The artifact bucket expires models/ by age: keep what the next renewal reads.
            store.refresh((paths.MODEL_IDS, paths.ITEM_LISTS))
            if not shop_wide_only and keys:
                self._drop_excluded(version, store, 0, self._personal_table(imported))
            self.versions.update_meta(version, expires_at, {"renewedAt": iso(self.deps.clock())})
        return renewed

    def _version_keys(
        self, version: str, store: VersionArtifacts, *, shop_wide_only: bool, users: bool = True
    ) -> list[tuple[str, str]]:
        """Every row key a version published in the model table, from the artifacts it keeps (the
        item lists and, for a full version, its visitors unless `users` is False)."""
        sk = version_sk(version)
        keys = [(CATALOG_PK, sk), (ATTRIBUTES_PK, sk)]
        for first in self.versions.read_rows(list(keys)):
            if first is not None:
                keys.extend(catalog_part_keys(first))  # a large catalog's maps are in several rows
        if not store.exists(paths.ITEM_LISTS):
            return keys
        kinds = SHOP_WIDE_LISTS if shop_wide_only else None
        keys.extend((pk, sk) for pk in list_pks(store.get_json_gz(paths.ITEM_LISTS), kinds))
        if users and not shop_wide_only and store.exists(paths.MODEL_IDS):
            visitors: list[str] = store.get_json(paths.MODEL_IDS)["users"]
            keys.extend((make(v), sk) for v in visitors for make in (user_pk, purchased_pk))
        return keys

    # ------------------------------------------------------------------ flip and clean up
    def flip(self, job: PublishedJob) -> FlippedJob:
        """Verify every shard stored every row, warm the cache, then flip the pointer."""
        store = self._artifacts(job)
        version = job.modelVersion
        manifest: list[dict[str, Any]] = store.get_json(paths.SHARD_MANIFEST)
        done = {key.rsplit("/", 1)[-1].removesuffix(".json") for key in store.list("published/")}
        missing = [s["name"] for s in manifest if s["name"] not in done]
        if missing:
            raise PublishIncompleteError(f"{len(missing)} shards did not finish: {missing[:5]}")
        markers = [store.get_json(paths.published_key(s["name"])) for s in manifest]
        short = [m["shard"] for m in markers if int(m["rows"]) != int(m["expected"])]
        if short:
            raise PublishIncompleteError(f"shards wrote fewer rows than they built: {short[:5]}")
        rows = sum(int(m["rows"]) for m in markers)
        unchanged = sum(int(m.get("unchanged", 0)) for m in markers)
        lists_table = self._verified_import(job, manifest, markers)
        personal = self._personal_table(lists_table)
        late = self._drop_late_exclusions(job, store, personal)
        base = job.publish.baseVersion
        warmed = self._warm_cache(version, store, base, personal)
        now = self.deps.clock()
        full = job.publish.mode == "full"
        self._update_meta(
            job.modelVersion,
            job.endTs,
            status="published",
            publishedAt=iso(now),
            rows=rows,
            unchangedRows=unchanged,
            generatedAt=job.generatedAt,
            family=job.family,
            baseVersion=base,
            # Only a full publish keeps every shard's hashes: later deltas compare with it.
            hashShards=job.publish.shards if full else None,
            baseEndTs=int(job.endTs) if full else None,
            **({LISTS_TABLE_ATTRIBUTE: lists_table} if lists_table else {}),
        )
        if lists_table:
            # Before the pointer names it: the erasure never skips a table that may serve.
            self.versions.register_lists_table(
                version, lists_table, self._registered_at(version, now.timestamp()), "published"
            )
        previous = self.versions.flip(
            version, job.generatedAt, iso(now), job.chosen, base_version=base, lists_table=lists_table
        )
        catalog = self._refresh_catalog()
        return FlippedJob(
            **job.model_dump(),
            flipped={
                "previous": previous,
                "catalogFeed": catalog,
                "rows": rows,
                "publish": job.publish.mode,
                "unchangedRows": unchanged,
                "cacheWarmed": warmed,
                **late,
            },
        )

    def _verified_import(
        self, job: PublishedJob, manifest: list[dict[str, Any]], markers: list[dict[str, Any]]
    ) -> str | None:
        """The imported table of a run that imports its users' rows, once the import holds every
        row the shards wrote into their files; None for a run that wrote them into the model table."""
        table = job.publish.importTable
        if not table:
            return None
        imported = job.tableImport
        if imported is None or imported.table != table or imported.importedItems is None:
            raise PublishIncompleteError(f"{job.modelVersion}: the import into {table} did not finish")
        users = {s["name"] for s in manifest if s["kind"] == "users"}
        expected = sum(int(m["rows"]) for m in markers if m["shard"] in users)
        if imported.importedItems != expected:
            raise PublishIncompleteError(
                f"{table} holds {imported.importedItems} items, the shards wrote {expected}"
            )
        return table

    def _registered_at(self, version: str, default: float) -> int:
        """When a version's table was registered (its rollback window counts from then)."""
        for row in self.versions.lists_tables():
            if row.get("version") == version:
                return int(row.get("createdAt", default))
        return int(default)

    def _drop_late_exclusions(
        self, job: PreparedJob, store: VersionArtifacts, personal: KeyValueTable
    ) -> dict[str, int]:
        return self._drop_excluded(
            job.modelVersion, store, int(job.stats.get("erasureTombstones", 0)), personal
        )

    def _drop_excluded(
        self,
        version: str,
        store: VersionArtifacts,
        tombstones_seen: int,
        personal: KeyValueTable | None = None,
    ) -> dict[str, int]:
        """Leave out users who opted out or were erased after Prepare read the exclusions.

        Privacy removes a user's rows of every version at once, but a run already past Prepare
        publishes them again; so before the pointer moves, this version's rows of such users
        are deleted (cached copies too), and erased visitors are scrubbed from its artifacts.
        Tombstones are only ever added, so an unchanged count means no new erasure and no
        hashing of every user.
        """
        opted_out, tombstones = self.deps.privacy.opted_out_and_tombstones()
        visitors: list[str] = store.get_json(paths.MODEL_IDS)["users"]
        late_opt_outs = {v for v in visitors if v in opted_out}
        erased: set[str] = set()
        if len(tombstones) > tombstones_seen:
            tombstone = self.deps.pseudonyms.tombstone
            erased = {v for v in visitors if tombstone(v) in tombstones}
        if not late_opt_outs and not erased:
            return {}
        keys = [
            (pk(v), version_sk(version))
            for v in sorted(late_opt_outs | erased)
            for pk in (user_pk, purchased_pk)
        ]
        (personal or self.deps.model_table).delete_many(keys)
        self.deps.cache.delete([cache_key(version, pk) for pk, _ in keys])
        if erased:
            ArtifactScrubber(self.deps.artifacts).scrub_version(version, erased.__contains__)
        return {"lateOptOuts": len(late_opt_outs), "lateErasures": len(erased)}

    def _warm_cache(self, version: str, store: VersionArtifacts, base: str, personal: KeyValueTable) -> int:
        """Read back the most active users' rows (a check that they are stored) and the shop-wide
        lists, and put them in the cache under the new version's keys; a delta's user without a
        row of its own is read (and cached) under the base, where serving looks next. The users'
        rows are read from `personal`: the imported table of a run that imported them."""
        active: list[str] = store.get_json(paths.ACTIVE_USERS)
        user_keys = [user_pk(user) for user in active]
        shared = [popular_pk(ALL_CATEGORIES), trending_pk(ALL_CATEGORIES), CATALOG_PK]
        sk = version_sk(version)
        rows = personal.get_many([(pk, sk) for pk in user_keys]) + self.versions.read_rows(
            [(pk, sk) for pk in shared]
        )
        absent = [pk for pk, row in zip(user_keys, rows, strict=False) if row is None]
        from_base: list[dict[str, Any] | None] = []
        if absent and base != version:
            from_base = self.versions.read_rows([(pk, version_sk(base)) for pk in absent])
        if len(absent) == len(user_keys) and user_keys and not any(from_base):
            raise PublishIncompleteError(f"none of the {len(user_keys)} most active users' rows can be read")
        return self._put_in_cache(version, rows) + (self._put_in_cache(base, from_base) if from_base else 0)

    def cleanup(self, job: FlippedJob) -> CleanedJob:
        """Remove the intermediate artifacts (the model, lists and report stay with the version)
        and the imported tables past their rollback window (`recs.training.publish.table_imports`)."""
        removed = self._artifacts(job).delete_folders(paths.INTERMEDIATE)
        retired = self._retire_tables()
        released = self.deps.lease.give_back(job.lease.holder if job.lease else None)
        return CleanedJob(
            **job.model_dump(),
            cleanedUp={
                "intermediateObjects": removed,
                "leaseReleased": released,
                **({"listsTablesDeleted": retired} if retired else {}),
            },
        )

    def _retire_tables(self) -> list[str]:
        if self.deps.lists_tables is None:
            return []
        pointer = self.versions.pointer() or {}
        serving = pointer.get(LISTS_TABLE_ATTRIBUTE)
        return self._table_imports().retire(str(serving) if serving else None, self.deps.clock().timestamp())

    # ------------------------------------------------------------------ failure paths
    def record_failure(self, job: FailedJob) -> AlertedJob:
        name = job.error.Error
        if job.modelVersion:
            self._update_meta(
                job.modelVersion,
                job.endTs,
                status="failed",
                error=name,
                cause=job.error.Cause[:2000],
                failedAt=iso(self.deps.clock()),
            )
        renewal = self._renew_after_failure()
        discarded = self._discard_import(job.modelVersion)
        self.deps.lease.give_back(job.lease.holder if job.lease else None)
        alert = f"training run {job.modelVersion or '(not started)'} failed: {name}{renewal}{discarded}"
        return AlertedJob.model_validate({**job.model_dump(), "alert": alert})

    def _discard_import(self, version: str | None) -> str:
        """A failed run's imported table, deleted at once; a fault leaves it to the next Cleanup
        (it stays registered) and only adds to the alert."""
        if not version or self.deps.lists_tables is None:
            return ""
        try:
            serving = (self.versions.pointer() or {}).get(LISTS_TABLE_ATTRIBUTE)
            table = self._table_imports().discard(version, str(serving) if serving else None)
        except Exception as error:
            return f"; its lists table not deleted ({type(error).__name__}): the next cleanup retries"
        return f"; its lists table {table} deleted" if table else ""

    def _renew_after_failure(self) -> str:
        """A failed run still keeps the serving rows from expiring; a fault here only adds to the
        alert (the failure is recorded and the lease given back whatever happens)."""
        try:
            renewed = self.renew_serving()
        except Exception as error:
            return f"; serving rows not renewed ({type(error).__name__})"
        return f"; serving rows renewed ({sum(renewed.values())})" if renewed else ""

    def record_refusal(self, job: RefusedJob) -> AlertedJob:
        reason = job.gate.reason
        lists_error = job.listsError.Error if job.listsError else None
        self._update_meta(
            job.modelVersion, job.endTs, status="refused", reason=reason, listsError=lists_error
        )
        self.deps.lease.give_back(job.lease.holder if job.lease else None)
        refreshed = (
            "popular and trending lists refreshed"
            if job.lists
            else f"lists not refreshed ({lists_error or 'not attempted'})"
        )
        alert = f"model {job.modelVersion} refused by the quality gate: {reason}; {refreshed}"
        return AlertedJob.model_validate({**job.model_dump(), "alert": alert})

    def _update_meta(self, version: str, end_ts: float | None, **attributes: Any) -> None:
        """Merge attributes into the version's META row (one writer per version at a time)."""
        self.versions.update_meta(version, None if end_ts is None else self._expires(end_ts), attributes)


def _never_shown(purchase_days: sp.csr_matrix, exclude: sp.csr_matrix) -> sp.csr_matrix:
    """Purchase days of the excluded purchases only."""
    pattern = exclude.copy()
    pattern.data = np.ones_like(pattern.data)
    kept = sp.csr_matrix(purchase_days.multiply(pattern), dtype=np.float32)
    kept.eliminate_zeros()
    kept.sort_indices()
    return kept


def _small_metrics(metrics: Any) -> Any:
    """Metrics rounded for the job document and the META row (floats as 4-decimal numbers)."""
    if metrics is None:
        return None
    if isinstance(metrics, dict) and "ndcg" in metrics:
        return {
            k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items() if k in _METRIC_KEYS
        }
    if isinstance(metrics, dict):
        return {k: _small_metrics(v) for k, v in metrics.items()}
    return metrics
