"""DynamoDB ImportTable on the local stack: moto's, with the import files read by the stdlib.

moto implements ImportTable, DescribeImport and DYNAMODB_JSON with GZIP compression (its import
runs in a thread, as the real one runs in the background). Its reader, py_partiql_parser's
JsonParser (0.6.3), cuts a string at its first escaped quote, so the rows this product imports,
whose ``d`` attribute is a JSON list inside a string, would be imported as nothing (measured:
0 of 134 rows). `import_files_read_by_json` replaces only that reader, with ``json.loads`` per line
(the format is one item per line, ``{"Item": {...}}``): table creation, item writes, counts and
statuses stay moto's, so the product's adapter (`recs.adapters.dynamodb_import`) runs unchanged
against the same API. Everything moto does not model of ImportTable is listed in
docs/training.md (Publish).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.utils import gzip_decompress
from moto.dynamodb.models.table_import import TableImport


def _process_s3_files(self: Any, s3_backend: Any, bucket: Any) -> None:
    """moto's `TableImport._process_s3_files` (5.2.5) with each line parsed by ``json.loads``."""
    from moto.dynamodb.models import dynamodb_backends

    dynamo = dynamodb_backends[self.account_id][self.region_name]
    self.table = dynamo.create_table(
        name=self.table_name,
        billing_mode=self.billing_mode,
        throughput=self.throughput,
        schema=self.key_schema,
        global_indexes=self.global_indexes,
        indexes=None,
        attr=self.attrs,
        sse_specification=None,
        streams=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    keys, _, _, _ = s3_backend.list_objects(
        bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None, marker=None, max_keys=None
    )
    for key in keys:
        raw = gzip_decompress(key.value) if self.compression_type == "GZIP" else key.value
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            try:
                self.processed_count += 1
                self.processed_bytes += len(line)
                self.table.put_item(item_attrs=json.loads(line)["Item"])
                self.imported_count += 1
            except Exception as error:  # moto counts a bad item and goes on, as DynamoDB does
                self.failure_message = str(error)
                self.error_count += 1
    self.status = "COMPLETED" if self.error_count == 0 else "FAILED"


@contextmanager
def import_files_read_by_json() -> Iterator[None]:
    """While active, moto's ImportTable reads its files with `_process_s3_files`."""
    original = TableImport._process_s3_files
    TableImport._process_s3_files = _process_s3_files  # type: ignore[method-assign]
    try:
        yield
    finally:
        TableImport._process_s3_files = original  # type: ignore[method-assign]
