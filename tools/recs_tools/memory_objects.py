"""An `ObjectStore` over a dict: the lake or artifact bucket of unit tests, benchmarks and the
scale measurements, where S3's transfer is not what is measured."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence


class MemoryObjects:
    """An `ObjectStore` over a dict (a copy of ``objects``); ``reads`` counts the gets."""

    def __init__(self, objects: Mapping[str, bytes] | None = None) -> None:
        self.objects: dict[str, bytes] = dict(objects or {})
        self.reads = 0

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = data

    def get(self, key: str) -> bytes:
        self.reads += 1
        return self.objects[key]

    def list_keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def list_sizes(self, prefix: str) -> Iterator[tuple[str, int]]:
        for key in self.list_keys(prefix):
            yield key, len(self.objects[key])

    def delete(self, keys: Sequence[str]) -> int:
        for key in keys:
            self.objects.pop(key, None)
        return len(keys)
