"""S3 object store adapter (ObjectStore port) for the event lake and the model artifacts.

Every AWS fault leaves as `StoreUnavailableError`; a missing object as `KeyError`
(`recs.adapters.faults`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from recs.adapters.faults import store_faults


class S3ObjectStore:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self._client = client

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        with store_faults(self.bucket):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes:
        with store_faults(self.bucket, missing_key=key):
            body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def list_keys(self, prefix: str) -> Iterator[str]:
        with store_faults(self.bucket):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"]

    def list_sizes(self, prefix: str) -> Iterator[tuple[str, int]]:
        with store_faults(self.bucket):
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"], int(obj["Size"])

    def delete(self, keys: Sequence[str]) -> int:
        deleted = 0
        with store_faults(self.bucket):
            for start in range(0, len(keys), 1000):
                chunk = keys[start : start + 1000]
                self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
                deleted += len(chunk)
        return deleted


class S3ExportStore(S3ObjectStore):
    """The export bucket (`recs.ports.ExportObjects`): also whether an object exists, and a
    presigned GET URL for it. Presigning is local (no request): the URL carries the function
    role's signature, so the role needs s3:GetObject on the objects."""

    def exists(self, key: str) -> bool:
        try:
            with store_faults(self.bucket, missing_key=key):
                self._client.head_object(Bucket=self.bucket, Key=key)
        except KeyError:
            return False
        return True

    def download_url(self, key: str, expires_in_seconds: int) -> str:
        with store_faults(self.bucket):
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": key},
                ExpiresIn=expires_in_seconds,
                HttpMethod="GET",
            )
        return url
