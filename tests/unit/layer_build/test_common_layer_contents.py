"""What the common layer ships: the runtime package and nothing of the tooling beside it.

The layer is built by the same function ``sam build`` runs (`layer_build.packaging`); pip is
replaced by a no-op, so only our own code lands under ``python/`` and is inspected here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from layer_build.packaging import build_common_layer
from recs_tools.checkout import repo_root

#: Libraries only tooling, tests and benchmarks use; a layer module importing one would fail in
#: Lambda (they are not installed there) or drag a workstation dependency into the runtime.
TOOLING_ONLY = frozenset(
    {
        "recs_tools",
        "layer_build",
        "moto",
        "matplotlib",
        "tqdm",
        "playwright",
        "jsonschema",
        "pyarrow",
        "pandas",
        "pyspark",
    }
)
#: The modules that read Parquet or the lake with pyarrow: only the functions carrying the arrow
#: layer import them (template.yaml PrepareFunction, PurgeFunction, ExportFunction; pyproject.toml's
#: import-linter contracts keep the functions without pyarrow away from them).
ARROW_READERS = frozenset(
    {
        "recs/lake_format.py",
        "recs/privacy/lake_parquet.py",
        "recs/training/prepare/columnar.py",
        "recs/training/prepare/text_forms.py",
        "recs/training/prepare/days.py",
        "recs/training/spark/exchange.py",
    }
)
#: The Spark job: shipped in the layer only for Prepare to upload; EMR Serverless runs it.
SPARK_JOB = "recs/training/spark/als_job.py"


@pytest.fixture(scope="module")
def built_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("common-layer")
    build_common_layer(repo_root() / "layers" / "common", out, pip=["true"], python=None)
    return out / "python"


def _imported_roots(module: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_layer_ships_only_the_runtime_package(built_layer: Path) -> None:
    # Given the common layer as sam build makes it
    # When its top level is listed
    top_level = sorted(path.name for path in built_layer.iterdir())

    # Then it holds the recs package alone, without the tooling package's directories
    assert top_level == ["recs"]
    packages = {path.name for path in (built_layer / "recs").iterdir() if path.is_dir()}
    assert not packages & {"cli", "local", "synthetic", "reports", "deploy"}


def test_no_layer_module_imports_tooling_or_a_tooling_only_library(built_layer: Path) -> None:
    # Given every module of the built layer
    modules = sorted(built_layer.rglob("*.py"))
    assert len(modules) > 50

    # When their imports are read
    imports = {module.relative_to(built_layer).as_posix(): _imported_roots(module) for module in modules}
    offenders = {
        name: sorted(roots & TOOLING_ONLY)
        for name, roots in imports.items()
        if roots & (TOOLING_ONLY - _allowed(name))
    }

    # Then none reaches tooling, a test library, plotting, progress bars, columnar I/O or Spark,
    # but the Parquet readers, which import pyarrow (from the arrow layer), and the Spark job,
    # which imports pyspark (on EMR Serverless), and nothing else of these
    assert offenders == {}
    assert {name for name, roots in imports.items() if "pyarrow" in roots} == ARROW_READERS
    assert {name for name, roots in imports.items() if "pyspark" in roots} == {SPARK_JOB}


def _allowed(module: str) -> frozenset[str]:
    if module in ARROW_READERS:
        return frozenset({"pyarrow"})
    if module == SPARK_JOB:
        return frozenset({"pyspark"})
    return frozenset()
