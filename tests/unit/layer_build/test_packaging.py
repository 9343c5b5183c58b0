"""The package check's stripping and measuring (the pip download itself runs in `make package-check`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layer_build.packaging import (
    FUNCTIONS,
    LAMBDA_UNZIPPED_LIMIT,
    PartSize,
    compile_bytecode,
    find_python312,
    function_sizes,
    link_time_copies,
    strip,
    strip_pyarrow,
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


def test_pyarrow_keeps_what_prepare_loads_and_loses_what_it_never_does(tmp_path: Path) -> None:
    # Given pyarrow as its wheel installs it: the extension modules Prepare imports and the
    # libraries they need, Flight, S3 and the other filesystems, ORC, encryption, Cython sources,
    # C++ headers and sources, and libarrow_python three times over (a wheel holds no symlinks)
    package = tmp_path / "pyarrow"
    kept = [
        "__init__.py",
        "fs.py",
        "parquet/core.py",
        "lib.cpython-312-x86_64-linux-gnu.so",
        "_compute.cpython-312-x86_64-linux-gnu.so",
        "_json.cpython-312-x86_64-linux-gnu.so",
        "_parquet.cpython-312-x86_64-linux-gnu.so",
        "_dataset_parquet.cpython-312-x86_64-linux-gnu.so",
        "libarrow.so.2600",
        "libarrow_compute.so.2600",
        "libarrow_python.so.2600",
        "libparquet.so.2600",
    ]
    gone = [
        "libarrow_flight.so.2600",
        "libarrow_python_flight.so",
        "libarrow_python_flight.so.2600",
        "_flight.cpython-312-x86_64-linux-gnu.so",
        "libarrow_s3.so.2600",
        "_s3fs.cpython-312-x86_64-linux-gnu.so",
        "_gcsfs.cpython-312-x86_64-linux-gnu.so",
        "_azurefs.cpython-312-x86_64-linux-gnu.so",
        "_hdfs.cpython-312-x86_64-linux-gnu.so",
        "_cuda.pyx",
        "_orc.cpython-312-x86_64-linux-gnu.so",
        "_dataset_orc.cpython-312-x86_64-linux-gnu.so",
        "_parquet_encryption.cpython-312-x86_64-linux-gnu.so",
        "_dataset_parquet_encryption.cpython-312-x86_64-linux-gnu.so",
        "libarrow_python_parquet_encryption.so.2600",
        "_pyarrow_cpp_tests.cpython-312-x86_64-linux-gnu.so",
        "lib.pyx",
        "lib.pxd",
        "table.pxi",
        "includes/libarrow.pxd",
        "include/arrow/api.h",
        "src/arrow/python/common.cc",
        "libarrow_python.so",
        "libarrow_python.so.2600.1.0",
    ]
    for name in kept + gone:
        _file(package / name, 10)

    # When stripped for the arrow layer
    removed = strip_pyarrow(package)

    # Then exactly what Prepare loads is left: every module it imports, and each library under
    # its soname, the name the extension modules record (NEEDED) and the loader opens
    remaining = sorted(p.relative_to(package).as_posix() for p in package.rglob("*"))
    assert remaining == sorted([*kept, "parquet"])
    assert removed == 10 * len(gone)


def test_only_copies_beside_a_libraries_soname_are_link_time_copies(tmp_path: Path) -> None:
    # Given a library under its three names, and libraries under one name only
    for name in ("libx.so", "libx.so.7", "libx.so.7.1.0", "liby.so", "libz.so.3.0.1", "libw.so.2"):
        _file(tmp_path / name, 1)
    # Then only the first one's link-time names are copies: the others are the only copy there is
    assert [p.name for p in link_time_copies(tmp_path)] == ["libx.so", "libx.so.7.1.0"]


def test_each_function_is_measured_with_the_layers_the_template_gives_it() -> None:
    # Given template.yaml's functions with the layers package-check builds
    resources = load_template(repo_root() / "template.yaml")["Resources"]
    for name, (code, layers) in FUNCTIONS.items():
        properties = resources[name]["Properties"]
        # Then package-check measures each with its own code and exactly its layers
        assert properties["CodeUri"].rstrip("/") == code
        assert [layer["Ref"] for layer in properties["Layers"]] == list(layers)


def test_a_functions_size_is_its_code_plus_its_layers_against_lambdas_limit() -> None:
    # Given measured parts, the arrow layer too big to share a function with the science layer
    mib = 2**20
    parts = [
        PartSize("CommonLayer", 1, 45 * mib, 0, 0),
        PartSize("ScienceLayer", 1, 140 * mib, 0, 0),
        PartSize("ArrowLayer", 1, 146 * mib, 0, 7),
        PartSize("TrainFunction", 1, 1, 0, 0),
        PartSize("PrepareFunction", 1, 2, 0, 0),
        PartSize("PurgeFunction", 1, 3, 0, 0),
        PartSize("ExportFunction", 1, 3, 0, 0),
    ]
    # When summed per function
    sizes = function_sizes(parts)
    # Then each function counts its own layers only, and all fit
    assert sizes["TrainFunction"]["unzippedBytes"] == 185 * mib + 1
    assert sizes["PrepareFunction"]["unzippedBytes"] == 191 * mib + 2
    assert sizes["PrepareFunction"]["headroomBytes"] == LAMBDA_UNZIPPED_LIMIT - (191 * mib + 2)
    assert sizes["PrepareFunction"]["parts"] == ["PrepareFunction", "CommonLayer", "ArrowLayer"]
    # And the privacy functions that read the lake's Parquet carry the arrow layer, not the science one
    assert sizes["PurgeFunction"]["parts"] == ["PurgeFunction", "CommonLayer", "ArrowLayer"]
    assert sizes["ExportFunction"]["unzippedBytes"] == 191 * mib + 3
    assert all(size["withinLimit"] for size in sizes.values())
    # And one function over the limit is reported as such
    parts[2] = PartSize("ArrowLayer", 1, 206 * mib, 0, 0)
    assert function_sizes(parts)["PrepareFunction"]["withinLimit"] is False
    assert function_sizes(parts)["TrainFunction"]["withinLimit"] is True


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


def test_sam_builds_every_layer_with_the_package_checks_builders() -> None:
    # Given the template and the layers' Makefile
    template = load_template(repo_root() / "template.yaml")
    makefile = (repo_root() / "layers/Makefile").read_text()
    for layer, kind in (("CommonLayer", "common"), ("ScienceLayer", "science"), ("ArrowLayer", "arrow")):
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
    assert "{common,science,arrow}" in started.stdout
