"""The workflow's Prepare step: the window's events -> indexed interactions in the artifacts.

It runs on its own function (template.yaml PrepareFunction) because it is the only step that
reads the lake with pyarrow, and pyarrow does not fit beside scipy in one Lambda's 250 MB; it
imports neither scipy nor the model code. Closed days come from their kept Parquet
(`recs.training.prepare.days`), so a run decodes only the lake objects (Parquet, or the NDJSON
Firehose delivered before its record format conversion) that arrived since the last one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from recs.ports import KeyValueTable, ObjectStore, PrivacyRecords
from recs.pseudonyms import Pseudonyms
from recs.store_layout import CATALOG_OBJECT_KEY, iso, prepared_run_key
from recs.training.errors import TrainingError
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.days import PreparedDays
from recs.training.prepare.interactions import InteractionBuilder, Interactions
from recs.training.privacy.exclusions import ExclusionPolicy
from recs.training.publish import artifacts as paths
from recs.training.publish.artifacts import VersionArtifacts
from recs.training.publish.model_versions import ModelVersions
from recs.training.spark import job_arguments, job_script
from recs.training.spark.exchange import aggregate_to_parquet, factors_from_parquet
from recs.training.spark.inputs import aggregate, holdout_training_mask, spark_regularization
from recs.training.workflow import PreparedJob, PrepareRequest, SparkRun

SECONDS_PER_DAY = 86_400.0
#: Events stamped a little after the run started (client clocks run fast) still count.
CLOCK_SKEW_SECONDS = 600.0


Engine = Literal["lambda", "container", "spark"]


def choose_engine(params: TrainingParameters, interactions: int) -> Engine:
    """Where a window of ``interactions`` trains: Spark from SPARK_MIN_INTERACTIONS on (the
    larger threshold wins), else the training container from CONTAINER_MIN_INTERACTIONS on,
    else the training function. A threshold of 0 never chooses its engine."""
    spark, container = params.spark_min_interactions, params.container_min_interactions
    if spark > 0 and interactions >= spark:
        return "spark"
    if container > 0 and interactions >= container:
        return "container"
    return "lambda"


def version_name(now: datetime, execution: str) -> str:
    """Sortable by time to the millisecond, unique per execution: ``v20261126T030000.123Z-1a2b3c``
    (reports and rollback order versions by name; two runs may start in the same second)."""
    stamp = f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z"
    return f"v{stamp}-{hashlib.sha256(execution.encode()).hexdigest()[:6]}"


@dataclass(frozen=True)
class PrepareDeps:
    lake: ObjectStore
    artifacts: ObjectStore
    model_table: KeyValueTable
    privacy: PrivacyRecords
    pseudonyms: Pseudonyms
    clock: Callable[[], datetime]
    #: ``s3://<artifact bucket>``: where EMR Serverless finds the Spark job and its data.
    artifacts_uri: str = ""


class PrepareStep:
    def __init__(self, lake_prefix: str, params: TrainingParameters, deps: PrepareDeps) -> None:
        self.lake_prefix = lake_prefix
        self.params = params
        self.deps = deps

    def prepare(self, request: PrepareRequest) -> PreparedJob:
        """Read the window, drop duplicates, products outside the catalog export (when there is
        one) and excluded visitors, index it; start the version's META row."""
        now = self.deps.clock()
        version = version_name(now, request.executionName)
        end_ts = now.timestamp()
        start = now - timedelta(days=self.params.training_window_days)
        exclusions = ExclusionPolicy.load(self.deps.privacy, self.deps.pseudonyms.tombstone)
        catalog = self._catalog()
        builder = InteractionBuilder()
        days = PreparedDays(self.deps.lake, self.deps.artifacts, self.lake_prefix)
        for block in days.blocks(start, now):
            builder.add_block(block)
        interactions = builder.build(
            start_ts=start.timestamp(),
            end_ts=end_ts + CLOCK_SKEW_SECONDS,
            excluded=exclusions.excluded,
            known_product=catalog.known_product(),
        )
        if len(interactions) == 0:
            raise TrainingError(f"no usable events between {iso(start)} and {iso(now)} ({builder.read} read)")
        stats = {
            **interactions.stats,
            **exclusions.stats(),
            **days.stats.as_dict(),
            "catalogProducts": len(catalog.entries),
        }
        unavailable = catalog.unavailable_mask(interactions.items)
        not_sold = {p for p, entry in catalog.entries.items() if not entry.available}
        not_sold.update(
            item for item, gone in zip(interactions.items, unavailable.tolist(), strict=True) if gone
        )
        store = VersionArtifacts(self.deps.artifacts, version)
        sampled = {} if interactions.weight is None else {"weight": interactions.weight}
        store.put_arrays(
            paths.PREPARED_INTERACTIONS,
            user=interactions.user,
            item=interactions.item,
            event=interactions.event,
            timestamp=interactions.timestamp,
            quantity=interactions.quantity,
            basket=interactions.basket,
            is_user=interactions.is_user,
            unavailable=unavailable,
            **sampled,
        )
        store.put_json(
            paths.PREPARED_IDS,
            {
                "users": interactions.users,
                "items": interactions.items,
                "itemCategory": catalog.categories(interactions.items, interactions.item_category),
                "catalog": {p: e.category for p, e in catalog.entries.items() if e.category},
                # [brand, price, tags] per product of the export (serving's attribute filters).
                "attributes": catalog.attributes(),
                "unavailable": sorted(not_sold),
                "catalogPresent": catalog.present,
            },
        )
        engine = choose_engine(self.params, len(interactions))
        spark = self._plan_spark(store, interactions, end_ts) if engine == "spark" else None
        job = PreparedJob(
            executionName=request.executionName,
            modelVersion=version,
            generatedAt=iso(now),
            endTs=end_ts,
            stats=stats,
            lease=request.input.lease,
            engine=engine,
            spark=spark,
        )
        ModelVersions(self.deps.model_table).update_meta(
            version,
            int(end_ts + self.params.version_ttl_days * SECONDS_PER_DAY),
            {
                "status": "training",
                "startedAt": iso(now),
                "stats": json.dumps(stats),
                "parameters": json.dumps(self.params.recorded()),
                "weights": json.dumps(self.params.event_weights),
            },
        )
        return job

    # ------------------------------------------------------------------ the container path
    def prepare_in_container(self, request: PrepareRequest) -> PreparedJob:
        """Prepare as the training container runs it (PrepareInContainer: a window past what the
        prepare function reads in 15 minutes), the same code writing the same outputs, then store
        the document it ended with under the execution's name for `prepared_result` (the state
        machine gets nothing back from a Batch job but its status)."""
        job = self.prepare(request)
        self.deps.artifacts.put(
            prepared_run_key(request.executionName),
            json.dumps(job.to_state()).encode(),
            content_type="application/json",
        )
        return job

    def prepared_result(self, request: PrepareRequest) -> PreparedJob:
        """What the training container's Prepare ended with, for ChooseEngine."""
        key = prepared_run_key(request.executionName)
        try:
            stored = self.deps.artifacts.get(key)
        except KeyError:
            raise TrainingError(
                f"the training container stored no prepared job for this run ({key})"
            ) from None
        job = PreparedJob.model_validate_json(stored)
        if job.executionName != request.executionName:
            raise TrainingError(
                f"the prepared job under {key} is {job.executionName}'s, not {request.executionName}'s"
            )
        return job

    # ------------------------------------------------------------------ the Spark path
    def _plan_spark(self, store: VersionArtifacts, interactions: Interactions, end_ts: float) -> SparkRun:
        """Write the Spark job, its input (the full window's and the holdout's aggregates) and
        say how to run it. The parameters are the serving version's choice (the search runs on
        one machine only), ALS whatever family that version had."""
        if not self.deps.artifacts_uri.startswith("s3://"):
            raise TrainingError("the window needs the Spark engine, but no artifact bucket URI is configured")
        previous = ModelVersions(self.deps.model_table).current_json("chosen")
        chosen: dict[str, Any] = {**(previous if isinstance(previous, dict) else {}), "model_family": "als"}
        params = self.params.model_copy(update=chosen)
        parts = {
            "full": aggregate(interactions, params, now_ts=end_ts),
            "holdout": aggregate(
                interactions, params, now_ts=end_ts, mask=holdout_training_mask(interactions, params)
            ),
        }
        fitted = [name for name, part in parts.items() if part.entries]
        for name in fitted:
            store.put_bytes(paths.spark_input_key(name), aggregate_to_parquet(parts[name]))
        store.put_bytes(paths.SPARK_JOB, job_script())
        base = f"{self.deps.artifacts_uri.rstrip('/')}/"
        arguments = job_arguments(
            base + store.key(paths.SPARK_INPUT),
            base + store.key(paths.SPARK_FACTORS),
            {name: spark_regularization(params.als_regularization, parts[name]) for name in fitted},
            params,
        )
        return SparkRun(
            entryPoint=base + store.key(paths.SPARK_JOB),
            arguments=arguments,
            parts=fitted,  # type: ignore[arg-type]
            chosen=chosen,
            users=interactions.n_users,
            items=interactions.n_items,
        )

    def import_factors(self, job: PreparedJob) -> PreparedJob:
        """The factors the Spark job wrote (Parquet) as the matrices Train and Evaluate read
        (`spark/factors.npz`: ``<part>_users``, ``<part>_items``); a part the job did not fit
        (no entries) is all zeros."""
        if job.engine != "spark" or job.spark is None:
            raise TrainingError(f"{job.modelVersion} was not prepared for the Spark engine")
        spark = job.spark
        store = VersionArtifacts(self.deps.artifacts, job.modelVersion)
        factors = int(self.params.model_copy(update=spark.chosen).als_factors)
        arrays: dict[str, Any] = {}
        for part in ("full", "holdout"):
            for side, rows in (("users", spark.users), ("items", spark.items)):
                prefix = store.key(paths.spark_factors_prefix(part, side))
                keys = [k for k in self.deps.artifacts.list_keys(prefix) if k.endswith(".parquet")]
                if part in spark.parts and not keys:
                    raise TrainingError(f"the Spark job wrote no {part} {side} factors under {prefix}")
                files = (self.deps.artifacts.get(key) for key in sorted(keys))
                arrays[f"{part}_{side}"] = factors_from_parquet(files, rows=rows, factors=factors)
        store.put_arrays(paths.SPARK_FACTORS_ARRAYS, **arrays)
        return job

    def _catalog(self) -> Catalog:
        if CATALOG_OBJECT_KEY not in set(self.deps.artifacts.list_keys(CATALOG_OBJECT_KEY)):
            return Catalog.absent()
        return Catalog.from_jsonl(self.deps.artifacts.get(CATALOG_OBJECT_KEY).splitlines())
