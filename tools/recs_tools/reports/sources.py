"""Where the reports' data comes from: a stack (S3, DynamoDB, CloudWatch Logs) or local files.

`StackSource` reads through the ports (`recs.ports`), so it works the same against the local
stack (moto) and a deployed one; `stack_source` builds it from table and bucket names or from a
CloudFormation stack's outputs. `OfflineSource` reads what ``recs train --out DIR`` wrote.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from recs.ports import KeyValueTable, ObjectStore
from recs.store_layout import (
    CATALOG_PK,
    LISTS_TABLE_ATTRIBUTE,
    POINTER_KEY,
    catalog_part_keys,
    category_map_payload,
    decode_category_map,
    decode_items,
    version_meta_key,
    version_sk,
)
from recs.training.prepare.lake import read_window
from recs.training.publish import artifacts as paths
from recs_tools.deploy.stack_outputs import MissingOutputsError, stack_outputs
from recs_tools.reports.model_report import VersionRecord
from recs_tools.reports.model_stats import RankedList

#: Lists read per GetItem batch.
_BATCH = 100


class ReportError(Exception):
    """The report cannot be made; the message says what to do about it."""


class ModelSource(Protocol):
    label: str

    def versions(self) -> list[str]: ...

    def record(self, version: str) -> VersionRecord: ...

    def serving_version(self) -> str | None: ...

    def lists(self, version: str, limit: int) -> list[RankedList]: ...

    def popularity(self, record: VersionRecord) -> dict[str, int]: ...

    def catalog_items(self, version: str) -> int | None: ...


class ExperimentSource(Protocol):
    label: str

    @property
    def impressions_note(self) -> str: ...

    def served_ids(self, start: datetime, end: datetime) -> Iterable[str]: ...

    def events(self, start: datetime, end: datetime) -> Iterable[Mapping[str, Any]]: ...


def parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def count_products(events: Iterable[Mapping[str, Any]], start: datetime, end: datetime) -> dict[str, int]:
    """Interactions per product among events stamped in [start, end] (searches have no product)."""
    counts: Counter[str] = Counter()
    for event in events:
        product, stamp = event.get("productId"), parse_time(event.get("timestamp"))
        if product and stamp is not None and start <= stamp <= end:
            counts[str(product)] += 1
    return dict(counts)


def training_window(record: VersionRecord) -> tuple[datetime, datetime] | None:
    """The version's training window, from its generation time and recorded window length."""
    evaluation = record.evaluation or {}
    end = parse_time(evaluation.get("generatedAt") or record.meta.get("generatedAt"))
    if end is None:
        return None
    parameters = evaluation.get("parameters") or {}
    days = float(parameters.get("training_window_days", 90))
    return end - timedelta(days=days), end


class ServedLog(Protocol):
    def served_ids(self, start: datetime, end: datetime) -> Iterable[str]: ...


class CloudWatchServedLog:
    """The recommend function's ``served`` log lines (one per served list) in CloudWatch Logs."""

    def __init__(self, log_group: str, client: Any) -> None:
        self.log_group = log_group
        self._client = client

    def served_ids(self, start: datetime, end: datetime) -> Iterator[str]:
        kwargs: dict[str, Any] = {
            "logGroupName": self.log_group,
            "startTime": int(start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
            "filterPattern": '"served"',
        }
        while True:
            page = self._client.filter_log_events(**kwargs)
            for event in page.get("events", []):
                found = served_id(str(event.get("message", "")))
                if found:
                    yield found
            token = page.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token


def served_id(line: str) -> str | None:
    """The recommendationId of a ``served`` JSON log line; None for any other line."""
    start = line.find("{")
    if start < 0:
        return None
    try:
        record = json.loads(line[start:])
    except json.JSONDecodeError:
        return None
    if not isinstance(record, dict) or record.get("message") != "served":
        return None
    value = record.get("recommendationId")
    return value if isinstance(value, str) else None


@dataclass
class StackSource:
    """A stack's model table, artifact bucket, lake and (optionally) the served log lines."""

    model_table: KeyValueTable
    artifacts: ObjectStore
    lake: ObjectStore
    lake_prefix: str
    served: ServedLog | None
    label: str
    #: Where the impressions come from, for the experiment page.
    impressions_from: str = "the recommend function's served log lines"
    #: Opens a version's own lists table (ImportTable publishing; its META names it).
    lists_table: Callable[[str], KeyValueTable] | None = None

    @property
    def impressions_note(self) -> str:
        if self.served is None:
            return "impressions unknown (no log group): only lists with events are counted"
        return f"impressions: {self.impressions_from}"

    def versions(self) -> list[str]:
        """Versions with an evaluation report, oldest first (version names sort by time)."""
        suffix = "/" + paths.EVALUATION
        found = {
            key.removeprefix("models/").removesuffix(suffix)
            for key in self.artifacts.list_keys("models/")
            if key.endswith(suffix)
        }
        return sorted(found)

    def record(self, version: str) -> VersionRecord:
        meta = self.model_table.get(*version_meta_key(version)) or {}
        evaluation = json.loads(self.artifacts.get(paths.prefix(version) + paths.EVALUATION))
        return VersionRecord(version, meta, evaluation)

    def serving_version(self) -> str | None:
        pointer = self.model_table.get(*POINTER_KEY)
        return str(pointer["modelVersion"]) if pointer else None

    def lists(self, version: str, limit: int) -> list[RankedList]:
        """Up to ``limit`` shoppers' stored lists of ``version`` (the first found by a key scan),
        from the version's own table when its users' rows were imported into one."""
        sk = version_sk(version)
        meta = self.model_table.get(*version_meta_key(version)) or {}
        imported = meta.get(LISTS_TABLE_ATTRIBUTE)
        table = self.lists_table(str(imported)) if imported and self.lists_table else self.model_table
        keys: list[tuple[str, str]] = []
        for pk, row_sk in table.scan_keys():
            if row_sk == sk and pk.startswith("U#"):
                keys.append((pk, row_sk))
                if len(keys) >= limit:
                    break
        lists: list[RankedList] = []
        for start in range(0, len(keys), _BATCH):
            for row in table.get_many(keys[start : start + _BATCH]):
                if row is not None:
                    lists.append([(p, s) for p, s, _ in decode_items(str(row["d"]))])
        return lists

    def popularity(self, record: VersionRecord) -> dict[str, int]:
        window = training_window(record)
        if window is None:
            return {}
        start, end = window
        return count_products(read_window(self.lake, self.lake_prefix, start, end), start, end)

    def catalog_items(self, version: str) -> int | None:
        row = self.model_table.get(CATALOG_PK, version_sk(version))
        if not row:
            return None
        parts = [row, *[self.model_table.get(pk, sk) for pk, sk in catalog_part_keys(row)]]
        if any(part is None for part in parts):
            return None
        return len(decode_category_map(category_map_payload([p for p in parts if p is not None])))

    def served_ids(self, start: datetime, end: datetime) -> Iterable[str]:
        return self.served.served_ids(start, end) if self.served else ()

    def events(self, start: datetime, end: datetime) -> Iterable[Mapping[str, Any]]:
        return read_window(self.lake, self.lake_prefix, start, end)


@dataclass(frozen=True)
class StackNames:
    model_table: str
    artifact_bucket: str
    lake_bucket: str
    lake_prefix: str = "events/"
    recommend_log_group: str | None = None


def names_from_cloudformation(stack_name: str, client: Any) -> StackNames:
    """The names a deployed stack's outputs (template.yaml ``Outputs``) and resources give."""
    required = ("ModelTableName", "ArtifactBucketName", "EventLakeBucketName")
    try:
        outputs = stack_outputs(stack_name, required=required, client=client)
    except MissingOutputsError as foreign:
        raise ReportError(str(foreign)) from foreign
    except Exception as error:  # botocore's ClientError: the stack is absent or not readable
        raise ReportError(
            f"cannot read CloudFormation stack {stack_name!r} ({error}); check the name, the region "
            "(AWS_REGION) and your credentials, or pass --model-table/--artifact-bucket/--lake-bucket"
        ) from error
    log_group: str | None
    try:
        resource = client.describe_stack_resource(StackName=stack_name, LogicalResourceId="RecommendLogGroup")
        log_group = str(resource["StackResourceDetail"]["PhysicalResourceId"])
    except Exception:  # an older stack without the log group: impressions are then unknown
        log_group = None
    return StackNames(
        model_table=outputs["ModelTableName"],
        artifact_bucket=outputs["ArtifactBucketName"],
        lake_bucket=outputs["EventLakeBucketName"],
        recommend_log_group=log_group,
    )


def stack_source(names: StackNames, clients: Mapping[str, Any], label: str) -> StackSource:
    """A `StackSource` over boto3 clients (``s3``, ``dynamodb`` and ``logs``)."""
    from recs.adapters.dynamodb import DynamoTable
    from recs.adapters.s3 import S3ObjectStore

    return StackSource(
        model_table=DynamoTable(names.model_table, clients["dynamodb"]),
        artifacts=S3ObjectStore(names.artifact_bucket, clients["s3"]),
        lake=S3ObjectStore(names.lake_bucket, clients["s3"]),
        lake_prefix=names.lake_prefix,
        served=CloudWatchServedLog(names.recommend_log_group, clients["logs"])
        if names.recommend_log_group
        else None,
        label=label,
        lists_table=lambda name: DynamoTable(name, clients["dynamodb"]),
    )


class OfflineSource:
    """``recs train --out DIR``'s files; interaction counts from the events file it was trained on."""

    def __init__(self, out: Path, events: Path | None = None, served: Path | None = None) -> None:
        if not (out / "evaluation.json").is_file():
            raise ReportError(
                f"{out}/evaluation.json not found: run `recs train --events FILE --out {out}` first"
            )
        self.out = out
        self.events_file = events
        self.served_file = served
        self.label = f"offline outputs in {out}"
        self.impressions_note = (
            f"impressions: {served}; events: all of {events}"
            if served
            else "impressions unknown (no --served file): only lists with events are counted"
        )
        self._evaluation: dict[str, Any] = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))

    def versions(self) -> list[str]:
        return [str(self._evaluation["modelVersion"])]

    def record(self, version: str) -> VersionRecord:
        return VersionRecord(version, {"status": "offline"}, self._evaluation)

    def serving_version(self) -> str | None:
        return None

    def lists(self, version: str, limit: int) -> list[RankedList]:
        lists: list[RankedList] = []
        with (self.out / "recommendations.jsonl").open(encoding="utf-8") as lines:
            for line in lines:
                if len(lists) >= limit:
                    break
                record = json.loads(line)
                lists.append([(p["id"], float(p["score"])) for p in record["products"]])
        return lists

    def _events(self) -> Iterator[dict[str, Any]]:
        from recs_tools.training.event_files import read_events

        if self.events_file is None:
            return iter(())
        return read_events(self.events_file)

    def popularity(self, record: VersionRecord) -> dict[str, int]:
        window = training_window(record)
        if window is None or self.events_file is None:
            return {}
        return count_products(self._events(), *window)

    def catalog_items(self, version: str) -> int | None:
        return None

    def served_ids(self, start: datetime, end: datetime) -> Iterable[str]:
        if self.served_file is None:
            return ()
        lines = self.served_file.read_text(encoding="utf-8").splitlines()
        return [served_id(line) or line.strip() for line in lines if line.strip()]

    def events(self, start: datetime, end: datetime) -> Iterable[Mapping[str, Any]]:
        return self._events()
