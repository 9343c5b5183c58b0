"""The ImportTable adapter's import files (its calls run against moto in
tests/integration/training/test_import_adapter.py)."""

from __future__ import annotations

import gzip
import json

from boto3.dynamodb.types import TypeDeserializer

from recs.adapters.dynamodb_import import DynamoListsTables
from recs.store_layout import encode_items, user_pk, version_sk

BUCKET = "artifact-bucket"
ROWS = [
    {
        "pk": user_pk(f"u_{n}"),
        "sk": version_sk("v1"),
        # A list row's "d" is JSON inside a string: quotes that must survive the file.
        "d": encode_items([(f"sku_{n}", 1.5, "similar-users"), ("sku_x", 0.25, None)]),
        "v": "v1",
        "expiresAt": 1_800_000_000,
        "absent": None,
    }
    for n in range(3)
]


def test_an_import_file_is_gzip_dynamodb_json_one_item_a_line_without_absent_attributes() -> None:
    # When rows become an import file
    data = DynamoListsTables(client=None, bucket=BUCKET).import_file(ROWS)
    # Then each line is {"Item": <the row in DynamoDB JSON>}, None attributes left out
    lines = gzip.decompress(data).decode().splitlines()
    assert len(lines) == len(ROWS)
    decoded = [
        {k: TypeDeserializer().deserialize(v) for k, v in json.loads(line)["Item"].items()} for line in lines
    ]
    assert decoded == [{k: v for k, v in row.items() if v is not None} for row in ROWS]
