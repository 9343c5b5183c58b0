"""The workflow's Prepare step: the window's events -> indexed interactions in the artifacts.

It runs on its own function (template.yaml PrepareFunction) because it is the only step that
reads the lake with pyarrow, and pyarrow does not fit beside scipy in one Lambda's 250 MB; it
imports neither scipy nor the model code. Closed days come from their kept Parquet
(`recs.training.prepare.days`), so a run decodes only the JSON that arrived since the last one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recs.ports import KeyValueTable, ObjectStore, PrivacyRecords
from recs.pseudonyms import Pseudonyms
from recs.store_layout import CATALOG_OBJECT_KEY, iso
from recs.training.errors import TrainingError
from recs.training.parameters import TrainingParameters
from recs.training.prepare.catalog import Catalog
from recs.training.prepare.days import PreparedDays
from recs.training.prepare.interactions import InteractionBuilder
from recs.training.privacy.exclusions import ExclusionPolicy
from recs.training.publish import artifacts as paths
from recs.training.publish.artifacts import VersionArtifacts
from recs.training.publish.model_versions import ModelVersions
from recs.training.workflow import PreparedJob, PrepareRequest

SECONDS_PER_DAY = 86_400.0
#: Events stamped a little after the run started (client clocks run fast) still count.
CLOCK_SKEW_SECONDS = 600.0


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


class PrepareStep:
    def __init__(self, lake_prefix: str, params: TrainingParameters, deps: PrepareDeps) -> None:
        self.lake_prefix = lake_prefix
        self.params = params
        self.deps = deps

    def prepare(self, request: PrepareRequest) -> PreparedJob:
        """Read the window, drop duplicates and excluded visitors, index it; start the version's
        META row."""
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
            start_ts=start.timestamp(), end_ts=end_ts + CLOCK_SKEW_SECONDS, excluded=exclusions.excluded
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
                "unavailable": sorted(not_sold),
                "catalogPresent": catalog.present,
            },
        )
        job = PreparedJob(
            executionName=request.executionName,
            modelVersion=version,
            generatedAt=iso(now),
            endTs=end_ts,
            stats=stats,
            lease=request.input.lease,
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

    def _catalog(self) -> Catalog:
        if CATALOG_OBJECT_KEY not in set(self.deps.artifacts.list_keys(CATALOG_OBJECT_KEY)):
            return Catalog.absent()
        return Catalog.from_jsonl(self.deps.artifacts.get(CATALOG_OBJECT_KEY).splitlines())
