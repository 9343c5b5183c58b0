"""An `ObjectStore` over a directory: the artifact bucket of benchmarks that measure a process's
memory, where what the process uploads must leave it as an upload to S3 would."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path


class DiskObjects:
    """An `ObjectStore` whose objects are files under ``root`` (keys as relative paths)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def list_keys(self, prefix: str) -> Iterator[str]:
        keys = (path.relative_to(self.root).as_posix() for path in self.root.rglob("*") if path.is_file())
        yield from sorted(key for key in keys if key.startswith(prefix))

    def delete(self, keys: Sequence[str]) -> int:
        for key in keys:
            self._path(key).unlink(missing_ok=True)
        return len(keys)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"key outside the store: {key!r}")
        return path
