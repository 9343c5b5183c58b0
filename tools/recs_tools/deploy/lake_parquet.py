"""Rewrite a stack's older NDJSON lake objects as Parquet, as Firehose now writes the lake.

    python -m recs_tools.deploy.lake_parquet --stack recs-prod [--dry-run]
    python -m recs_tools.deploy.lake_parquet --lake-bucket B --state-table T [--dry-run]

A stack deployed before the lake became Parquet keeps its gzip NDJSON objects under ``events/``
until they expire. Training, the erasure purge and the export read both formats, but the Athena
table now reads Parquet only, so queries over the older hours fail (docs/deploy.md, Updating a
stack whose lake is NDJSON). This command converts each NDJSON object under the prefix into a
Parquet object of the same records, converted exactly as Firehose converts them
(`recs.lake_format`), written beside it as ``<key>.parquet`` in the same hour's folder, and then
deletes the NDJSON object, so the records are never missing from the lake (a stop between the two
leaves both; training counts each ``eventId`` once and the next run of the command finishes the
job). Objects already Parquet (named ``.parquet``) are not read.

It holds the training lease while it runs, as a training run does, so no erasure purge or
Prepare reads or rewrites the lake at the same time; a run in progress makes it stop without
touching anything (exit 1). An object whose records do not convert (not JSON, or a value of
another type than the table's) is left as it is and named (exit 1). A data export running at the
same time may fail on an object deleted under it; its receipt says so and the shopper asks
again. Exit 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from recs import lake_format
from recs.ports import LeaseStore, ObjectStore
from recs.training.lease import LEASE_NAME
from recs.training.prepare.lake import decode_object

#: Long enough for a large lake (the training lease's own default is hours too); released at the end.
LEASE_SECONDS = 6 * 3600
PARQUET_SUFFIX = ".parquet"


@dataclass
class ConversionReport:
    objects_read: int = 0
    objects_converted: int = 0
    records: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    #: Objects left as they are because their records do not convert, with the reason.
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "objectsRead": self.objects_read,
            "objectsConverted": self.objects_converted,
            "records": self.records,
            "bytesBefore": self.bytes_before,
            "bytesAfter": self.bytes_after,
            "refused": dict(sorted(self.refused.items())),
        }


def converted(data: bytes) -> tuple[bytes, int]:
    """An NDJSON lake object's records as one Parquet lake object, and how many; raises
    `ValueError` when a record is not JSON or a value does not convert."""
    rows = list(decode_object(data))
    parquet = lake_format.encode_records(rows)
    # The same records, in order: checked by their event ids before the original is deleted.
    back = [record.get("eventId") for record in lake_format.records(parquet)]
    if back != [row.get("eventId") for row in rows]:
        raise ValueError("the Parquet object does not hold the same records")
    return parquet, len(rows)


def convert_lake(lake: ObjectStore, prefix: str = "events/", *, dry_run: bool = False) -> ConversionReport:
    """Convert every NDJSON object under ``prefix`` (see the module's docstring)."""
    report = ConversionReport()
    for key in list(lake.list_keys(prefix)):
        if key.endswith(PARQUET_SUFFIX):
            continue
        data = lake.get(key)
        report.objects_read += 1
        if lake_format.is_parquet(data):
            continue
        try:
            parquet, records = converted(data)
        except (ValueError, UnicodeDecodeError) as error:
            report.refused[key] = str(error)[:200]
            continue
        report.objects_converted += 1
        report.records += records
        report.bytes_before += len(data)
        report.bytes_after += len(parquet)
        if not dry_run:
            lake.put(f"{key}{PARQUET_SUFFIX}", parquet, "application/octet-stream")
            lake.delete([key])
    return report


class LeaseHeldError(Exception):
    """A training run holds the lease: nothing was converted."""


def convert_holding_the_lease(
    lake: ObjectStore,
    leases: LeaseStore,
    *,
    prefix: str = "events/",
    dry_run: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConversionReport:
    """`convert_lake` while holding the training lease (a dry run reads only and takes none)."""
    if dry_run:
        return convert_lake(lake, prefix, dry_run=True)
    holder = f"lake-parquet-{uuid.uuid4()}"
    now = clock().timestamp()
    other = leases.acquire(LEASE_NAME, holder, now, now + LEASE_SECONDS)
    if other is not None:
        raise LeaseHeldError(f"training run {other} holds the training lease; run this after it ends")
    try:
        return convert_lake(lake, prefix)
    finally:
        leases.release(LEASE_NAME, holder)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recs_tools.deploy.lake_parquet",
        description="Rewrite a stack's older NDJSON lake objects as Parquet (docs/deploy.md).",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--stack", help="the stack's name (its EventLakeBucketName and StateTableName outputs)"
    )
    where.add_argument("--lake-bucket", help="the event lake bucket (with --state-table)")
    parser.add_argument(
        "--state-table", help="the state table holding the training lease (with --lake-bucket)"
    )
    parser.add_argument("--prefix", default="events/", help="the lake's prefix (default: %(default)s)")
    parser.add_argument("--region", help="the AWS region (default: the environment's)")
    parser.add_argument("--dry-run", action="store_true", help="read and report, change nothing")
    return parser


def main(argv: Sequence[str] | None = None, *, clients: Callable[[str], Any] | None = None) -> int:
    import json

    parser = _parser()
    args = parser.parse_args(argv)
    if args.lake_bucket and not args.state_table:
        parser.error("--lake-bucket needs --state-table")
    from recs.adapters.dynamodb_lease import DynamoLeaseStore
    from recs.adapters.s3 import S3ObjectStore
    from recs_tools.deploy.stack_outputs import stack_outputs

    def client(service: str) -> Any:
        if clients is not None:
            return clients(service)
        import boto3

        return boto3.client(service, region_name=args.region)

    bucket, table = args.lake_bucket, args.state_table
    if args.stack:
        outputs = stack_outputs(
            args.stack, required=("EventLakeBucketName", "StateTableName"), client=client("cloudformation")
        )
        bucket, table = outputs["EventLakeBucketName"], outputs["StateTableName"]
    lake = S3ObjectStore(bucket, client("s3"))
    try:
        report = convert_holding_the_lease(
            lake, DynamoLeaseStore(table, client("dynamodb")), prefix=args.prefix, dry_run=args.dry_run
        )
    except LeaseHeldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"dryRun": args.dry_run, **report.as_dict()}, indent=2))
    if report.refused:
        print(f"error: {len(report.refused)} object(s) left as NDJSON: see refused", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
