"""The purge on in-memory stores: lake objects (gzip and plain) rewritten without erased
visitors, linked anonymous ids found and tombstoned, receipts completed with counts."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from recs.privacy.erasure import LiveData
from recs.privacy.lake_purge import LakePurge
from recs.privacy.purge import ErasurePurge, PurgeDeps
from recs.privacy.receipts import ErasureStatus, ReceiptBook
from recs.privacy.service import PrivacyService
from recs.privacy.visitors import ErasedVisitors
from recs.store_layout import (
    LAKE_SWEEP_KEY,
    PENDING_ERASURES_PK,
    session_cache_key,
    session_key,
    tombstone_key,
)
from recs.training.privacy.artifact_scrub import ScrubOutcome
from recs_tools.memory_objects import MemoryObjects
from tests.unit.privacy.fakes import PSEUDONYMS, MemoryCache, MemoryTable, clock

ERASED, KEPT = PSEUDONYMS.user("erased_user"), PSEUDONYMS.user("kept_user")
LINKED, OTHER_ANON = PSEUDONYMS.anon("anon_linked"), PSEUDONYMS.anon("anon_other")


def record(n: int, user: str | None = None, anon: str | None = None) -> bytes:
    fields: dict[str, Any] = {"eventId": f"e{n}", "eventType": "view", "productId": f"sku_{n}"}
    if user:
        fields["userId"] = user
    if anon:
        fields["anonId"] = anon
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def lake_objects() -> dict[str, bytes]:
    """Four objects: one gzip, three plain; the erased user logs in once from LINKED."""
    return {
        "events/2026/11/20/10/a.gz": gzip.compress(
            record(1, ERASED) + record(2, KEPT) + record(3, None, OTHER_ANON)
        ),
        "events/2026/11/21/10/b": record(4, None, LINKED) + record(5, KEPT),
        "events/2026/11/22/10/c": record(6, ERASED, LINKED),
        "events/2026/11/23/10/d": record(7, KEPT) + record(8, None, OTHER_ANON),
    }


class FakeScrub:
    """Stands in for the artifact scrubber: records what it was asked."""

    def __init__(self, found: dict[str, set[str]] | None = None) -> None:
        self.found = found or {}
        self.asked: list[Callable[[str], bool]] = []
        self.forgotten_days: list[str] = []

    def scrub_all(self, is_erased: Callable[[str], bool]) -> ScrubOutcome:
        self.asked.append(is_erased)
        return ScrubOutcome(
            objects_rewritten=sum(len(v) for v in self.found.values()), objects_by_visitor=self.found
        )

    def forget_prepared_days(self, days: Iterable[str]) -> int:
        self.forgotten_days.extend(days)
        return len(self.forgotten_days)


class World:
    def __init__(self, objects: dict[str, bytes] | None = None, scrub: FakeScrub | None = None) -> None:
        self.models, self.state, self.cache = MemoryTable(), MemoryTable(), MemoryCache()
        self.lake = MemoryObjects(lake_objects() if objects is None else objects)
        self.scrub = scrub or FakeScrub()
        live = LiveData(self.models, self.state, self.cache)
        self.privacy = PrivacyService(
            live, self.state, ReceiptBook(self.state), self.cache, PSEUDONYMS, clock
        )
        self.purge = ErasurePurge(
            PurgeDeps(
                receipts=ReceiptBook(self.state),
                privacy=self,
                live=live,
                state_table=self.state,
                cache=self.cache,
                lake=self.lake,
                lake_prefix="events/",
                artifacts=self.scrub,
                pseudonyms=PSEUDONYMS,
                clock=clock,
                prefetch=2,
            )
        )

    def opted_out_and_tombstones(self) -> tuple[set[str], set[str]]:
        """`PrivacyRecords` over the memory state table (what the DynamoDB scan returns)."""
        return set(), {pk.removeprefix("ERASED#") for pk, _ in self.state.items if pk.startswith("ERASED#")}

    def lake_text(self) -> str:
        return "".join(
            (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode()
            for data in self.lake.objects.values()
        )


@pytest.fixture
def world() -> World:
    return World()


def test_without_pending_erasures_the_lake_is_not_read(world: World) -> None:
    # Given no erasure request / When the purge runs
    report = world.purge.run()
    # Then it reads nothing and reports nothing
    assert world.lake.reads == 0
    assert report.as_dict()["erasuresCompleted"] == 0


def assert_the_erased_users_purge_counted(world: World, report: dict[str, Any], receipt_id: str) -> None:
    """The erasure of ``erased_user`` over `lake_objects()`' records, whatever format the objects
    are in: three records in three objects (two rewritten, one emptied and deleted), the linked
    anonymous id tombstoned, the receipt completed with those counts, nothing left pending."""
    assert report["lakeRecordsRemoved"] == 3
    assert report["lakeObjectsRewritten"] == 2
    assert report["lakeObjectsDeleted"] == 1
    assert report["linkedAnonymousIds"] == 1
    assert tombstone_key(PSEUDONYMS.tombstone(LINKED)) in world.state.items
    receipt = world.privacy.receipt(receipt_id)
    assert receipt.status is ErasureStatus.COMPLETED
    assert receipt.removed.lake_records == 3
    assert receipt.removed.lake_objects == 3
    assert receipt.removed.linked_anonymous_ids == 1
    assert world.state.query(PENDING_ERASURES_PK) == []


def test_the_purge_removes_the_user_and_their_linked_anonymous_id_from_every_object(world: World) -> None:
    # Given an erasure request for the user (who logged in once from LINKED), with a session row for LINKED
    receipt_id = world.privacy.request_erasure("erased_user")["receiptId"]
    pk, sk = session_key(LINKED)
    world.state.put({"pk": pk, "sk": sk, "d": "[]"})
    world.cache.values[session_cache_key(LINKED)] = b"[]"
    before = dict(world.lake.objects)
    # When the purge runs
    report = world.purge.run().as_dict()
    # Then neither pseudonym is left in the lake, and everything else is
    text = world.lake_text()
    assert ERASED not in text
    assert LINKED not in text
    assert text.count(KEPT) == 3
    assert text.count(OTHER_ANON) == 2
    # And the gzip object stays gzip, the untouched object is byte-identical, the emptied one is gone
    assert world.lake.objects["events/2026/11/20/10/a.gz"][:2] == b"\x1f\x8b"
    assert world.lake.objects["events/2026/11/23/10/d"] == before["events/2026/11/23/10/d"]
    assert "events/2026/11/22/10/c" not in world.lake.objects
    # And the report and the receipt count what was removed, the linked id is tombstoned
    # (training leaves it out) and nothing is pending
    assert_the_erased_users_purge_counted(world, report, receipt_id)
    # And the linked id's session signal is gone
    assert session_key(LINKED) not in world.state.items
    assert session_cache_key(LINKED) not in world.cache.values
    # And the artifacts were scrubbed with the same notion of "erased"
    (is_erased,) = world.scrub.asked
    assert is_erased(ERASED)
    assert is_erased(LINKED)
    assert not is_erased(KEPT)


def test_prepares_copies_of_the_days_the_purge_changed_are_deleted(world: World) -> None:
    # Given an erasure of a user whose records sit in the lake days 2026/11/20, 21 (linked) and 22
    world.privacy.request_erasure("erased_user")
    # When the purge runs
    report = world.purge.run().as_dict()
    # Then Prepare's decoded copies of exactly those days are deleted (11/23 holds neither id)
    assert world.scrub.forgotten_days == ["2026/11/20", "2026/11/21", "2026/11/22"]
    assert report["preparedDayFilesDeleted"] == 3


def test_artifact_findings_are_erased_from_the_live_stores_and_counted(world: World) -> None:
    # Given a run published the user's rows after the request (the scrub finds them in a version)
    world.scrub.found = {ERASED: {"models/v9/model/ids.json", "models/v9/model/model.npz"}}
    receipt_id = world.privacy.request_erasure("erased_user")["receiptId"]
    world.models.put({"pk": f"U#{ERASED}", "sk": "V#v9", "d": "[]"})
    # When the purge runs
    world.purge.run()
    # Then the row is removed and the receipt counts the artifacts
    assert not [k for k in world.models.items if ERASED in k[0]]
    assert world.privacy.receipt(receipt_id).removed.artifact_objects == 2


def test_a_cache_fault_keeps_the_receipt_pending_for_the_next_run(world: World) -> None:
    # Given an erasure, then a cache that fails during the purge
    receipt_id = world.privacy.request_erasure("erased_user")["receiptId"]
    world.cache.down = True
    # When the purge runs
    report = world.purge.run().as_dict()
    # Then the lake is purged but the receipt stays pending (cached copies may be left)
    assert ERASED not in world.lake_text()
    assert report["erasuresLeftPending"] == 1
    assert world.privacy.receipt(receipt_id).status is ErasureStatus.PENDING
    # When the next run finds the cache back / Then it completes
    world.cache.down = False
    assert world.purge.run().as_dict()["erasuresCompleted"] == 1
    assert world.privacy.receipt(receipt_id).status is ErasureStatus.COMPLETED


def test_late_records_of_an_earlier_erasure_are_purged_with_the_next_one(world: World) -> None:
    # Given an erasure completed earlier, then a late record of that user arriving in the lake
    world.privacy.request_erasure("erased_user")
    world.purge.run()
    world.lake.objects["events/2026/11/24/10/late"] = record(9, ERASED)
    # When another user's erasure is purged
    world.privacy.request_erasure("kept_user")
    world.purge.run()
    # Then the late record is gone too
    assert ERASED not in world.lake_text()
    assert KEPT not in world.lake_text()


def test_late_records_of_an_earlier_erasure_are_swept_by_the_next_run_without_any_pending(
    world: World,
) -> None:
    # Given an erasure completed by a run at 12:00 (NOW), then a late record of that user and of
    # an anonymous id it logged in from, arriving in the next hour's partition, and its session
    # signal recreated by the late event
    world.privacy.request_erasure("erased_user")
    world.purge.run()
    watermark = world.state.get(*LAKE_SWEEP_KEY)
    assert watermark is not None
    assert watermark["sweptFrom"] == "2026/11/26/11"
    world.lake.objects["events/2026/11/26/13/late"] = record(9, ERASED, "a_late") + record(10, KEPT)
    pk, sk = session_key(ERASED)
    world.state.put({"pk": pk, "sk": sk, "d": "[]"})
    reads = world.lake.reads
    # When the next run has no erasure pending
    report = world.purge.run().as_dict()
    # Then the late records are gone, the other shopper's kept, the session row removed again
    assert ERASED not in world.lake_text()
    assert "a_late" not in world.lake_text()
    assert KEPT in world.lake_text()
    assert session_key(ERASED) not in world.state.items
    assert report["lakeRecordsRemoved"] == 1
    assert report["linkedAnonymousIds"] == 1
    # And only the partitions from the watermark on were read, not the whole lake
    assert world.lake.reads - reads == report["lakeObjectsRead"] * 2  # links, then rewrite
    assert report["lakeObjectsRead"] == 1


def test_a_sweep_without_any_erasure_ever_reads_nothing(world: World) -> None:
    # Given no tombstone at all / When runs sweep / Then the lake is never read
    world.purge.run()
    world.purge.run()
    assert world.lake.reads == 0


def test_a_line_that_is_not_json_but_names_an_erased_visitor_is_removed() -> None:
    # Given a damaged line naming an erased user
    lake = MemoryObjects({"events/x": b'{"userId":"' + ERASED.encode() + b'", broken\n' + record(1, KEPT)})
    erased = ErasedVisitors({PSEUDONYMS.tombstone(ERASED)}, PSEUDONYMS.tombstone)
    # When the lake is rewritten / Then the line goes, attributed to the visitor it names
    outcome = LakePurge(lake, "events/", erased).rewrite(["events/x"])
    assert outcome.removed_by_visitor == {ERASED: 1}
    assert lake.objects["events/x"] == record(1, KEPT)


def test_an_anonymous_erasure_keeps_a_signed_in_users_events_without_the_anonymous_id() -> None:
    # Given LINKED's own anonymous event, and KEPT's signed-in event on that browser (a login)
    world = World(
        {
            "events/2026/11/21/10/b": record(1, None, LINKED) + record(2, KEPT, LINKED) + record(3, KEPT),
            "events/2026/11/23/10/d": record(4, None, OTHER_ANON),
        }
    )
    # When the holder of LINKED erases it and the purge runs
    receipt_id = world.privacy.request_anonymous_erasure("anon_linked")["receiptId"]
    report = world.purge.run().as_dict()
    # Then LINKED is gone from the lake, its anonymous event with it
    text = world.lake_text()
    assert LINKED not in text
    assert '"eventId":"e1"' not in text
    # And KEPT's events are all kept (the signed-in one without the anonymous id), nobody else's touched
    assert text.count(KEPT) == 2
    assert json.loads(record(2, KEPT)) in [json.loads(line) for line in text.splitlines()]
    assert text.count(OTHER_ANON) == 1
    assert report["lakeRecordsRemoved"] == 1
    assert report["lakeAnonymousIdsDetached"] == 1
    # And KEPT is not erased (no tombstone, no link), and the receipt completes
    assert tombstone_key(PSEUDONYMS.tombstone(KEPT)) not in world.state.items
    assert report["linkedAnonymousIds"] == 0
    receipt = world.privacy.receipt(receipt_id)
    assert receipt.status is ErasureStatus.COMPLETED
    assert receipt.removed.lake_records == 1
    assert receipt.removed.lake_objects == 1
