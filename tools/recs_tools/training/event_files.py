"""Local event files for the offline commands: JSONL (optionally gzip) or Parquet.

Each record is an event in the event schema (docs/architecture.md, Events). Parquet needs
``pyarrow`` (installed with the ``tools`` extra). A Parquet object copied from the event lake
(Firehose's conversion names its columns in lower case, as Glue does: ``eventid``, ``userid``...)
reads as the records ingest wrote, so ``recs train --events`` takes a lake object as it is.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class EventFileError(ValueError):
    """The file cannot be read as events."""


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the events of ``path`` (``.parquet``/``.pq``, ``.jsonl``/``.ndjson``/``.json``, ``.gz``)."""
    if not path.is_file():
        raise EventFileError(f"{path}: no such file")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return _parquet(path)
    return _jsonl(path, compressed=bool(suffixes) and suffixes[-1] == ".gz")


def _jsonl(path: Path, *, compressed: bool) -> Iterator[dict[str, Any]]:
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise EventFileError(f"{path}:{number}: not JSON ({error.msg})") from error
            if isinstance(record, dict):
                yield record


def _parquet(path: Path) -> Iterator[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:  # pragma: no cover - pyarrow is part of the train extra
        raise EventFileError("reading Parquet needs pyarrow (pip install 'recs[arrow]')") from error
    from recs.lake_format import FIELD_OF_COLUMN

    table = pq.ParquetFile(path)
    present = set(table.schema_arrow.names)
    # A lake object's lower-case columns become the record's fields (a column already named as
    # the field wins, so an events file with its own casing is read as it is).
    names = [
        FIELD_OF_COLUMN[name] if name in FIELD_OF_COLUMN and FIELD_OF_COLUMN[name] not in present else name
        for name in table.schema_arrow.names
    ]
    for batch in table.iter_batches(batch_size=65_536):
        for record in batch.rename_columns(names).to_pylist():
            timestamp = record.get("timestamp")
            if hasattr(timestamp, "isoformat"):
                record["timestamp"] = timestamp.isoformat()
            yield record
