"""Converting a stack's older NDJSON lake objects to Parquet (recs_tools.deploy.lake_parquet)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from recs import lake_format
from recs_tools.deploy.lake_parquet import LeaseHeldError, convert_holding_the_lease, convert_lake, main
from recs_tools.memory_objects import MemoryObjects


def _record(i: int) -> dict[str, Any]:
    return {
        "eventId": f"00000000-0000-4000-8000-{i:012d}",
        "eventType": "view",
        "timestamp": "2026-11-06T06:33:36.202000Z",
        "productId": f"sku_{i}",
        "userId": f"u_{i % 3}",
        "receivedAt": "2026-11-06T06:33:37Z",
        "schemaVersion": 1,
    }


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()


class Leases:
    """A LeaseStore in memory: one holder per name."""

    def __init__(self, held_by: str | None = None) -> None:
        self.holders: dict[str, str] = {"training": held_by} if held_by else {}
        self.taken: list[str] = []

    def acquire(self, name: str, holder: str, now: float, expires_at: float) -> str | None:
        current = self.holders.get(name)
        if current not in (None, holder):
            return current
        self.holders[name] = holder
        self.taken.append(holder)
        return None

    def release(self, name: str, holder: str) -> bool:
        return self.holders.pop(name, None) == holder


def _lake() -> MemoryObjects:
    return MemoryObjects(
        {
            "events/2026/11/06/06/gzip-object": gzip.compress(_ndjson([_record(i) for i in range(5)])),
            "events/2026/11/06/07/plain-object": _ndjson([_record(i) for i in range(5, 8)]),
            "events/2026/11/06/08/delivery.parquet": lake_format.encode_records([_record(9)]),
        }
    )


def test_ndjson_objects_become_parquet_beside_them_and_parquet_ones_are_not_read() -> None:
    # Given a lake with a gzip and a plain NDJSON object and a Parquet one
    lake = _lake()
    parquet_before = lake.objects["events/2026/11/06/08/delivery.parquet"]
    # When it is converted
    report = convert_lake(lake)
    # Then each NDJSON object is replaced by a Parquet object of its records, in the same folder
    assert sorted(lake.objects) == [
        "events/2026/11/06/06/gzip-object.parquet",
        "events/2026/11/06/07/plain-object.parquet",
        "events/2026/11/06/08/delivery.parquet",
    ]
    records = list(lake_format.records(lake.objects["events/2026/11/06/06/gzip-object.parquet"]))
    assert records == [_record(i) for i in range(5)]
    # And the Parquet object was neither read nor changed
    assert lake.objects["events/2026/11/06/08/delivery.parquet"] == parquet_before
    assert (report.objects_read, report.objects_converted, report.records) == (2, 2, 8)
    assert report.refused == {}


def test_a_dry_run_reports_and_changes_nothing() -> None:
    # Given the lake / When a dry run converts it
    lake = _lake()
    before = dict(lake.objects)
    report = convert_lake(lake, dry_run=True)
    # Then it says what it would do and the lake is as it was
    assert (report.objects_converted, report.records) == (2, 8)
    assert lake.objects == before


def test_an_object_that_does_not_convert_is_left_and_named() -> None:
    # Given an NDJSON object with a quantity of another type, and one with a corrupt line
    bad_type = _ndjson([{**_record(1), "quantity": "two"}])
    corrupt = _ndjson([_record(2)]) + b"{not json\n"
    lake = MemoryObjects({"events/a": bad_type, "events/b": corrupt, "events/c": _ndjson([_record(3)])})
    # When the lake is converted
    report = convert_lake(lake)
    # Then both are left as they were and named, and the good one is converted
    assert sorted(report.refused) == ["events/a", "events/b"]
    assert "quantity" in report.refused["events/a"]
    assert lake.objects["events/a"] == bad_type
    assert lake.objects["events/b"] == corrupt
    assert "events/c.parquet" in lake.objects
    assert "events/c" not in lake.objects


def test_it_holds_the_training_lease_and_gives_it_back() -> None:
    # Given no run holds the lease / When the lake is converted
    leases = Leases()
    convert_holding_the_lease(_lake(), leases)
    # Then it took the training lease under its own name and released it
    assert len(leases.taken) == 1
    assert leases.taken[0].startswith("lake-parquet-")
    assert leases.holders == {}


def test_a_training_run_in_progress_stops_it_before_anything_changes() -> None:
    # Given a training run holds the lease
    lake = _lake()
    before = dict(lake.objects)
    # When the conversion starts, Then it is refused naming the run, and the lake is unchanged
    with pytest.raises(LeaseHeldError, match="run-7"):
        convert_holding_the_lease(lake, Leases(held_by="run-7"))
    assert lake.objects == before


@pytest.mark.parametrize(
    "argv",
    [[], ["--lake-bucket", "b"], ["--stack", "s", "--lake-bucket", "b", "--state-table", "t"]],
)
def test_bad_arguments_are_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err
