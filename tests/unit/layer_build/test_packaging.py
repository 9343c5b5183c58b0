"""The package check's stripping and measuring (the pip download itself runs in `make package-check`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layer_build.packaging import (
    LAMBDA_UNZIPPED_LIMIT,
    compile_bytecode,
    find_python312,
    strip,
    tree_size,
    zipped_size,
)
from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template


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


def test_bytecode_is_refused_from_another_python_than_lambdas(tmp_path: Path) -> None:
    # Given a module and this interpreter, which is not Python 3.12 (the venv runs 3.11)
    _file(tmp_path / "pkg/mod.py", 10)
    if find_python312() == sys.executable:
        pytest.skip("the test interpreter is Python 3.12 itself")
    # When compiled with it / Then the build refuses: Lambda's python3.12 would ignore that bytecode
    with pytest.raises(RuntimeError, match=r"not Python 3\.12"):
        compile_bytecode(tmp_path, sys.executable)
    assert not list(tmp_path.rglob("*.pyc"))


def test_bytecode_is_compiled_for_python312_without_source_checks(tmp_path: Path) -> None:
    python = find_python312()
    if python is None:
        pytest.skip("no Python 3.12 on this machine (pyenv's is used where it exists)")
    # Given a package under a layer's python/ directory
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/__init__.py").write_text("VALUE = 42\n")
    # When compiled for Lambda's runtime
    added = compile_bytecode(tmp_path, python)
    # Then each module has 3.12 bytecode, marked unchecked-hash (PEP 552 flags 0b01: hash-based,
    # source never checked), so file times in the archive do not matter
    compiled = tmp_path / "pkg/__pycache__/__init__.cpython-312.pyc"
    assert compiled.is_file()
    assert added == compiled.stat().st_size
    assert int.from_bytes(compiled.read_bytes()[4:8], "little") == 0b01
    # And it is what Python 3.12 imports from a read-only tree even when the source changes
    (tmp_path / "pkg/__init__.py").write_text("VALUE = 0\n")
    imported = subprocess.run(
        [python, "-c", "import pkg; print(pkg.VALUE)"],
        cwd=tmp_path,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "42"


def test_sam_builds_both_layers_with_the_package_checks_builders() -> None:
    # Given the template and the layers' Makefile
    template = load_template(repo_root() / "template.yaml")
    makefile = (repo_root() / "layers/Makefile").read_text()
    for layer, kind in (("CommonLayer", "common"), ("ScienceLayer", "science")):
        resource = template["Resources"][layer]
        # Then sam build runs the Makefile in layers/ for the layer, and its target runs
        # layer_build, the same builder `make package-check` measures
        assert resource["Metadata"]["BuildMethod"] == "makefile"
        assert resource["Properties"]["ContentUri"] == "layers/"
        target = f"build-{layer}:\n\tPYTHONPATH=. python3.12 -m layer_build {kind} --source {kind} --out"
        assert target in makefile


def test_the_layer_builder_runs_from_a_copy_of_layers_with_the_standard_library_alone(tmp_path: Path) -> None:
    # Given a copy of layers/, as sam build makes one, and an interpreter without site-packages
    copy = tmp_path / "layers"
    shutil.copytree(repo_root() / "layers", copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))

    # When the Makefile's command line starts the builder there
    started = subprocess.run(
        [sys.executable, "-S", "-m", "layer_build", "--help"],
        cwd=copy,
        env={"PYTHONPATH": "."},
        capture_output=True,
        text=True,
        check=False,
    )

    # Then it starts: nothing outside layers/ and the standard library is needed
    assert started.returncode == 0, started.stderr
    assert "common" in started.stdout
