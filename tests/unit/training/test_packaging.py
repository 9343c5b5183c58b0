"""The package check's stripping and measuring (the pip download itself runs in `make package-check`)."""

from __future__ import annotations

from pathlib import Path

from recs.packaging import LAMBDA_UNZIPPED_LIMIT, strip, tree_size, zipped_size


def _file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_strip_removes_what_lambda_never_reads_and_keeps_the_rest(tmp_path: Path) -> None:
    # Given a layer with code, bytecode, stubs, test suites, numpy.testing and a runtime-provided package
    _file(tmp_path / "scipy/linalg/_basic.py", 100)
    _file(tmp_path / "scipy/linalg/__pycache__/_basic.cpython-312.pyc", 50)
    _file(tmp_path / "scipy/linalg/tests/test_basic.py", 70)
    _file(tmp_path / "scipy/linalg/_basic.pyi", 10)
    _file(tmp_path / "numpy/testing/__init__.py", 20)
    _file(tmp_path / "numpy/_core/tests/test_x.py", 30)
    _file(tmp_path / "botocore/data/s3.json", 500)
    _file(tmp_path / "botocore-1.44.8.dist-info/METADATA", 5)
    _file(tmp_path / "pydantic-2.14.4.dist-info/METADATA", 5)
    # When stripped, dropping botocore
    removed = strip(tmp_path, drop_packages=["botocore"])
    # Then bytecode, stubs, tests and botocore are gone, numpy.testing (imported at run time) stays
    remaining = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert remaining == [
        "numpy/testing/__init__.py",
        "pydantic-2.14.4.dist-info/METADATA",
        "scipy/linalg/_basic.py",
    ]
    assert removed == 50 + 70 + 10 + 30 + 500 + 5


def test_sizes_are_measured_unzipped_and_zipped(tmp_path: Path) -> None:
    # Given two files of known size
    _file(tmp_path / "a.py", 1000)
    _file(tmp_path / "pkg/b.py", 24)
    # When measured / Then the unzipped size is exact and the zip is smaller (repetitive content)
    assert tree_size(tmp_path) == (2, 1024)
    assert 0 < zipped_size(tmp_path) < 1024
    assert LAMBDA_UNZIPPED_LIMIT == 262_144_000
