"""The purge: the part of an erasure that needs the event lake and the model artifacts.

Runs as the first step of the daily training workflow (before Prepare, so the run that follows
trains on a purged lake), over every pending erasure at once:

1. read the pending receipts and every tombstone;
2. lake, first pass: find the anonymous ids an erased user is linked to (events carrying both
   ids) and tombstone them, so training leaves them out too;
3. lake, second pass: rewrite every object holding an erased visitor's records without them;
4. model artifacts: remove erased visitors from every stored version (`ArtifactScrub`);
5. live stores, again, for every erased pseudonym met on the way (rows a training run published
   after the request, linked anonymous ids' session signals, cached copies);
6. complete the receipts with what was removed, unless the cache failed (then they stay pending
   and the next run repeats the purge; everything here is idempotent).

Records of erasures completed earlier that arrived late (a client's re-send, a buffered
delivery) are removed in the same passes; training excludes them meanwhile by tombstone. A run
with no erasure pending still sweeps for them, in the lake partitions that arrived since the last
sweep only (Firehose partitions by arrival hour, so a late record lands in a new partition): the
watermark (`LAKE_SWEEP_KEY`) names the first hour not yet known clean, and each sweep moves it to
the hour before the run's (the current hour's objects may still grow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from recs.ports import KeyValueTable, ObjectStore, PrivacyRecords
from recs.privacy.erasure import CountingCache, LiveData
from recs.privacy.lake_purge import PREFETCH, LakePurge, LakeRewrite
from recs.privacy.receipts import Receipt, ReceiptBook, Removed
from recs.privacy.visitors import ErasedVisitors
from recs.pseudonyms import Pseudonyms
from recs.store_layout import LAKE_SWEEP_KEY, iso, tombstone_key

_log = logging.getLogger(__name__)


class ScrubResult(Protocol):
    @property
    def objects_rewritten(self) -> int: ...

    @property
    def objects_by_visitor(self) -> dict[str, set[str]]: ...


class ArtifactScrub(Protocol):
    """Removes erased visitors from the stored model versions (`recs.training.privacy.artifact_scrub`)."""

    def scrub_all(self, is_erased: Callable[[str], bool]) -> ScrubResult: ...

    def forget_prepared_days(self, days: Iterable[str]) -> int:
        """Delete what Prepare kept of these lake days (``YYYY/MM/DD``); returns objects deleted."""
        ...


@dataclass
class PurgeReport:
    """Counts only: the purge's output goes to Step Functions' history, which is a store too."""

    erasures_completed: int = 0
    erasures_left_pending: int = 0
    lake_objects_read: int = 0
    lake_objects_rewritten: int = 0
    lake_objects_deleted: int = 0
    lake_records_removed: int = 0
    #: Records of users who are not erased, kept without an erased anonymous id.
    lake_anonymous_ids_detached: int = 0
    linked_anonymous_ids: int = 0
    artifact_objects_rewritten: int = 0
    prepared_day_files_deleted: int = 0
    live: Removed = field(default_factory=Removed)
    cache_faults: int = 0

    def count_lake(self, rewrite: LakeRewrite) -> None:
        """What a lake rewrite read and changed."""
        self.lake_objects_read = rewrite.objects_read
        self.lake_objects_rewritten = rewrite.objects_rewritten
        self.lake_objects_deleted = rewrite.objects_deleted
        self.lake_records_removed = rewrite.records_removed
        self.lake_anonymous_ids_detached = rewrite.anonymous_ids_detached

    def as_dict(self) -> dict[str, int]:
        live = self.live.as_dict()
        return {
            "erasuresCompleted": self.erasures_completed,
            "erasuresLeftPending": self.erasures_left_pending,
            "lakeObjectsRead": self.lake_objects_read,
            "lakeObjectsRewritten": self.lake_objects_rewritten,
            "lakeObjectsDeleted": self.lake_objects_deleted,
            "lakeRecordsRemoved": self.lake_records_removed,
            "lakeAnonymousIdsDetached": self.lake_anonymous_ids_detached,
            "linkedAnonymousIds": self.linked_anonymous_ids,
            "artifactObjectsRewritten": self.artifact_objects_rewritten,
            "preparedDayFilesDeleted": self.prepared_day_files_deleted,
            "modelRowsRemoved": live["modelRows"],
            "stateRowsRemoved": live["stateRows"],
            "cacheKeysRemoved": live["cacheKeys"],
            "cacheFaults": self.cache_faults,
        }


@dataclass
class PurgeDeps:
    receipts: ReceiptBook
    privacy: PrivacyRecords
    live: LiveData
    state_table: KeyValueTable
    cache: CountingCache
    lake: ObjectStore
    lake_prefix: str
    artifacts: ArtifactScrub
    pseudonyms: Pseudonyms
    clock: Callable[[], datetime]
    prefetch: int = PREFETCH


class ErasurePurge:
    def __init__(self, deps: PurgeDeps) -> None:
        self._deps = deps

    def run(self) -> PurgeReport:
        """Purge every pending erasure; see the module docstring for the steps."""
        deps = self._deps
        report = PurgeReport()
        pending = deps.receipts.pending()
        if not pending:
            return self._sweep_late_records()
        _, tombstones = deps.privacy.opted_out_and_tombstones()
        erased = ErasedVisitors(tombstones, deps.pseudonyms.tombstone)
        owners: dict[str, Receipt] = {}
        for receipt in pending:
            for tombstone in receipt.tombstones:
                erased.add(tombstone)
                owners[tombstone] = receipt
        faults = deps.cache.errors
        now = iso(deps.clock())

        lake = LakePurge(deps.lake, deps.lake_prefix, erased, prefetch=deps.prefetch)
        keys = lake.keys()
        links = lake.find_links(keys)
        report.linked_anonymous_ids = self._tombstone_links(links, erased, owners, now)

        rewrite = lake.rewrite(keys)
        report.count_lake(rewrite)
        report.prepared_day_files_deleted = self._forget_days(rewrite)

        scrub = deps.artifacts.scrub_all(erased.__contains__)
        report.artifact_objects_rewritten = scrub.objects_rewritten

        per_receipt: dict[str, Removed] = {r.receipt_id: Removed() for r in pending}
        lake_objects: dict[str, set[str]] = {r.receipt_id: set() for r in pending}
        artifact_objects: dict[str, set[str]] = {r.receipt_id: set() for r in pending}
        visitors = (
            set(rewrite.removed_by_visitor) | set(scrub.objects_by_visitor) | set(links) | set(links.values())
        )
        for visitor in sorted(visitors):
            live = self._erase_live(visitor)
            report.live.add(live)
            owner = owners.get(erased.tombstone(visitor))
            if owner is None:
                continue  # a late record of an erasure completed earlier
            removed = per_receipt[owner.receipt_id]
            removed.add(live)
            removed.lake_records += rewrite.removed_by_visitor.get(visitor, 0)
            lake_objects[owner.receipt_id] |= rewrite.objects_by_visitor.get(visitor, set())
            artifact_objects[owner.receipt_id] |= scrub.objects_by_visitor.get(visitor, set())

        report.cache_faults = deps.cache.errors - faults
        for receipt in pending:
            removed = per_receipt[receipt.receipt_id]
            removed.lake_objects = len(lake_objects[receipt.receipt_id])
            removed.artifact_objects = len(artifact_objects[receipt.receipt_id])
            receipt.removed.add(removed)
            receipt.removed.linked_anonymous_ids = len(receipt.linked)
            if report.cache_faults:
                # Cached copies may be left: keep the receipt pending; the next run repeats this.
                deps.receipts.save(receipt)
                report.erasures_left_pending += 1
            else:
                deps.receipts.complete(receipt, now)
                report.erasures_completed += 1
        if report.cache_faults:
            _log.warning(
                "purge: %d cache faults; %d erasures stay pending", report.cache_faults, len(pending)
            )
        else:
            self._advance_watermark()  # the whole lake was just swept
        return report

    def _sweep_late_records(self) -> PurgeReport:
        """No erasure pending: remove late records of visitors erased earlier from the lake
        partitions that arrived since the last sweep, and their live rows again (a late event may
        have recreated a session signal). Nothing is read when nobody was ever erased."""
        deps = self._deps
        report = PurgeReport()
        _, tombstones = deps.privacy.opted_out_and_tombstones()
        if not tombstones:
            return report
        erased = ErasedVisitors(tombstones, deps.pseudonyms.tombstone)
        faults = deps.cache.errors
        since = self._watermark()
        lake = LakePurge(deps.lake, deps.lake_prefix, erased, prefetch=deps.prefetch)
        listed = lake.keys()
        keys = [key for key in listed if since is None or self._partition(key) >= since]
        links = lake.find_links(keys)
        report.linked_anonymous_ids = self._tombstone_links(links, erased, {}, iso(deps.clock()))
        rewrite = lake.rewrite(keys)
        report.count_lake(rewrite)
        report.prepared_day_files_deleted = self._forget_days(rewrite)
        for visitor in sorted(set(rewrite.removed_by_visitor) | set(links) | set(links.values())):
            report.live.add(self._erase_live(visitor))
        report.cache_faults = deps.cache.errors - faults
        if not report.cache_faults:
            self._advance_watermark()  # else the next run sweeps the same partitions again
        return report

    def _forget_days(self, rewrite: LakeRewrite) -> int:
        """Prepare's decoded copy of a lake day is derived from its objects: when the purge changed
        any of them, the copy goes too (the next run decodes the day again from the clean lake)."""
        days = {self._partition(key)[:10] for key in rewrite.keys_changed}
        return self._deps.artifacts.forget_prepared_days(sorted(days)) if days else 0

    def _erase_live(self, visitor: str) -> Removed:
        """The live rows and cached copies keyed by an erased pseudonym (user or anonymous)."""
        live = self._deps.live
        return live.erase_user(visitor) if visitor.startswith("u_") else live.erase_anonymous(visitor)

    def _partition(self, key: str) -> str:
        """A lake key's arrival hour, ``YYYY/MM/DD/HH`` (Firehose's layout under the prefix)."""
        return key.removeprefix(self._deps.lake_prefix)[:13]

    def _watermark(self) -> str | None:
        row = self._deps.state_table.get(*LAKE_SWEEP_KEY)
        return str(row["sweptFrom"]) if row and row.get("sweptFrom") else None

    def _advance_watermark(self) -> None:
        """Partitions before the hour preceding this run's are clean: the current hour's objects
        may still grow (Firehose buffers up to a minute), so the next sweep starts an hour back."""
        now = self._deps.clock()
        swept_from = (now - timedelta(hours=1)).strftime("%Y/%m/%d/%H")
        self._deps.state_table.put(
            {"pk": LAKE_SWEEP_KEY[0], "sk": LAKE_SWEEP_KEY[1], "sweptFrom": swept_from, "updatedAt": iso(now)}
        )

    def _tombstone_links(
        self, links: dict[str, str], erased: ErasedVisitors, owners: dict[str, Receipt], now: str
    ) -> int:
        """Tombstone the anonymous ids linked to erased users (before any rewrite, so that a
        failure from here on still leaves them out of training); returns how many were new."""
        rows = []
        for anonymous, user in links.items():
            tombstone = erased.tombstone(anonymous)
            owner = owners.get(erased.tombstone(user))
            if owner is not None and tombstone not in owner.linked:
                owner.linked.append(tombstone)
                owners[tombstone] = owner
            if not erased.has_tombstone(tombstone):
                erased.add(tombstone)
                pk, sk = tombstone_key(tombstone)
                row = {"pk": pk, "sk": sk, "erasedAt": now}
                if owner is not None:
                    row["receiptId"] = owner.receipt_id
                rows.append(row)
        if rows:
            self._deps.state_table.put_many(rows)
        return len(rows)
