"""``python -m layer_build.packaging`` (``make package-check``): build the training function's deployment
artifact for Lambda's platform and check it fits Lambda's limit.

Builds what ``sam build`` puts in the zip archives of the TrainFunction and its two layers, for
``python3.12`` on ``x86_64`` (manylinux wheels only, never this machine's own builds):

* CommonLayer: ``layers/common/requirements.txt`` plus the ``recs`` package under ``python/``,
  stripped of what Lambda never reads, then compiled to bytecode (``build_common_layer``);
* ScienceLayer: ``layers/science/requirements.txt`` (numpy, scipy, ...) under ``python/``,
  stripped (``build_science_layer``);
* TrainFunction: ``functions/train/``.

``sam build`` builds both layers with the same two functions (``layers/Makefile`` runs them
through ``layer_build``), so what is measured here is what is deployed.

Stripped means: ``__pycache__`` left by the build machine, test suites inside packages, ``.pyi``
stubs, and boto3/botocore/s3transfer, which the Lambda Python runtime provides (a layer copy would
shadow the runtime's boto3 with another botocore). The common layer then gets bytecode compiled by
Python 3.12: Lambda's ``/opt`` is read-only, so a layer without ``__pycache__`` is compiled from
source on every cold start (docs/benchmarks.md measures the difference). The science layer stays
source only: training is a batch step, and its bytecode would take the training function past
the limit. The check measures each part unzipped and zipped, and fails when the function plus
its layers exceed Lambda's 250 MB unzipped limit. With a Python 3.12 interpreter on this machine
it also imports the training code from the built layers, as the Lambda runtime would.

Prints a JSON report; ``--json FILE`` writes it too.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

#: Lambda: function code plus all its layers, unzipped (262,144,000 bytes).
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PYTHON_VERSION = "3.12"
#: Newest first; the Lambda python3.12 runtime (Amazon Linux 2023, glibc 2.34) accepts all of them.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
#: Provided by the Lambda Python runtime; a layer copy would only shadow it.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
_TEST_DIRS = frozenset({"tests", "test", "testing"})
#: Test-support modules some packages import at run time: never stripped.
_KEEP_TEST_DIRS = frozenset({"numpy/testing", "numpy/_core/tests/_natype"})


@dataclass(frozen=True)
class PartSize:
    name: str
    files: int
    unzipped_bytes: int
    zipped_bytes: int
    stripped_bytes: int


def _checkout() -> Path:
    """The checkout this module sits in (layers/layer_build/ -> the repository root)."""
    return Path(__file__).resolve().parents[2]


def pip_install(requirements: Path, target: Path, *, pip: Sequence[str]) -> None:
    """Install ``requirements`` for the Lambda platform into ``target`` (wheels only)."""
    command = [
        *pip,
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        *(arg for platform in PLATFORMS for arg in ("--platform", platform)),
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]
    subprocess.run(command, check=True)


def strip(root: Path, *, drop_packages: Iterable[str] = ()) -> int:
    """Delete what Lambda never reads; returns the bytes removed."""
    removed = 0
    dropped = set(drop_packages)
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        name = path.name.split("-")[0].lower() if path.name.endswith(".dist-info") else path.name.lower()
        if name in dropped:
            removed += _delete(path)
    for directory, subdirs, files in os.walk(root, topdown=True):
        here = Path(directory)
        for sub in list(subdirs):
            relative = (here / sub).relative_to(root).as_posix()
            if sub == "__pycache__" or (sub in _TEST_DIRS and not _kept(relative)):
                removed += _delete(here / sub)
                subdirs.remove(sub)
        for file in files:
            if file.endswith((".pyc", ".pyo", ".pyi")):
                removed += _delete(here / file)
    return removed


def compile_bytecode(root: Path, python: str) -> int:
    """Compile every module under ``root`` for ``python`` (3.12); returns the bytes added.

    ``unchecked-hash`` bytecode is used without comparing the source's timestamp or hash: the
    archive's file times do not matter and the runtime saves a stat per module.
    """
    _require_python312(python)
    before = tree_size(root)[1]
    command = [python, "-m", "compileall", "-q", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    result = subprocess.run([*command, str(root)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"compileall failed under {root}:\n{(result.stdout + result.stderr)[-2000:]}")
    return tree_size(root)[1] - before


def build_common_layer(source: Path, out: Path, *, pip: Sequence[str], python: str | None) -> int:
    """The common layer as Lambda receives it (``sam build`` runs this through
    ``layers/Makefile``): requirements and ``recs`` under ``out/python``, stripped, then compiled by
    ``python`` when given. Returns the bytes stripped."""
    target = out / "python"
    pip_install(source / "requirements.txt", target, pip=pip)
    shutil.copytree(source / "recs", target / "recs", ignore=_source_ignore)
    removed = strip(target, drop_packages=RUNTIME_PROVIDED)
    if python:
        compile_bytecode(target, python)
    return removed


def build_science_layer(source: Path, out: Path, *, pip: Sequence[str]) -> int:
    """The science layer as Lambda receives it (``sam build`` runs this through
    ``layers/Makefile``): requirements under ``out/python``, stripped, source only (training is
    a batch step; its bytecode would add about 40 MB). Returns the bytes stripped."""
    target = out / "python"
    pip_install(source / "requirements.txt", target, pip=pip)
    return strip(target, drop_packages=RUNTIME_PROVIDED)


def _is_python312(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() == PYTHON_VERSION


def _require_python312(python: str) -> None:
    if not _is_python312(python):
        raise RuntimeError(
            f"{python} is not Python {PYTHON_VERSION}: Lambda's python{PYTHON_VERSION} runtime only reads "
            f"bytecode compiled by Python {PYTHON_VERSION}"
        )


def _kept(relative: str) -> bool:
    return any(relative.endswith(keep) or f"/{keep}" in f"/{relative}" for keep in _KEEP_TEST_DIRS)


def _delete(path: Path) -> int:
    size = tree_size(path)[1]
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    return size


def tree_size(path: Path) -> tuple[int, int]:
    """(files, bytes) under ``path`` (a file counts itself)."""
    if path.is_file():
        return 1, path.stat().st_size
    files = total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            files += 1
            total += (Path(directory) / name).lstat().st_size
    return files, total


def zipped_size(path: Path) -> int:
    """Size of the deflated zip Lambda would receive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for directory, _, names in os.walk(path):
            for name in sorted(names):
                file = Path(directory) / name
                archive.write(file, file.relative_to(path).as_posix())
    return len(buffer.getvalue())


def build(root: Path, out: Path, *, pip: Sequence[str], python: str | None) -> list[PartSize]:
    """Build the three parts under ``out`` and measure them (the common layer's bytecode compiled
    by ``python``, a Python 3.12, when given)."""
    parts: list[PartSize] = []

    common = out / "CommonLayer"
    stripped = build_common_layer(root / "layers/common", common, pip=pip, python=python)
    parts.append(_sized("CommonLayer", common, stripped))

    science = out / "ScienceLayer"
    stripped = build_science_layer(root / "layers/science", science, pip=pip)
    parts.append(_sized("ScienceLayer", science, stripped))

    function = out / "TrainFunction"
    shutil.copytree(root / "functions/train", function, ignore=_source_ignore)
    parts.append(_measure("TrainFunction", function, drop=()))
    return parts


def _source_ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}


def _measure(name: str, path: Path, *, drop: Iterable[str]) -> PartSize:
    stripped = strip(path / "python" if (path / "python").is_dir() else path, drop_packages=drop)
    return _sized(name, path, stripped)


def _sized(name: str, path: Path, stripped: int) -> PartSize:
    files, size = tree_size(path)
    return PartSize(name, files, size, zipped_size(path), stripped)


def smoke_import(out: Path, python: str) -> str:
    """Import the training code from the built layers with a Python 3.12 interpreter."""
    paths = [out / "TrainFunction", out / "CommonLayer/python", out / "ScienceLayer/python"]
    code = (
        "import numpy, scipy.sparse, scipy.linalg, pydantic, aws_lambda_powertools\n"
        "import recs.training.pipeline, recs.training.build, recs.engine\n"
        "print(numpy.__version__, scipy.__version__)"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    result = subprocess.run([python, "-S", "-c", code], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the built layers do not import on {python}:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def find_python312() -> str | None:
    """A Python 3.12 interpreter: on PATH, or one pyenv installed (pyenv's shim may not select it)."""
    candidates = [shutil.which(f"python{PYTHON_VERSION}")]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{PYTHON_VERSION}*/bin/python3"))
    return next((candidate for candidate in filter(None, candidates) if _is_python312(candidate)), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m layer_build.packaging", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, help="build here and keep it (default: a temporary dir)")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    parser.add_argument("--no-smoke", action="store_true", help="skip the Python 3.12 import check")
    parser.add_argument("--python", help="the Python 3.12 interpreter for the bytecode and the import check")
    args = parser.parse_args(argv)
    root = _checkout()
    pip = [sys.executable, "-m", "pip"]
    with tempfile.TemporaryDirectory(prefix="recs-package-") as scratch:
        out = args.out or Path(scratch)
        if args.out and out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        python312 = args.python or find_python312()
        parts = build(root, out, pip=pip, python=python312)
        total = sum(p.unzipped_bytes for p in parts)
        smoke: str | None = None
        if python312 and not args.no_smoke:
            smoke = smoke_import(out, python312)
    report = {
        "target": f"python{PYTHON_VERSION} x86_64 ({', '.join(PLATFORMS)})",
        "parts": [asdict(p) for p in parts],
        "totalUnzippedBytes": total,
        "totalUnzippedMiB": round(total / 2**20, 1),
        "unstrippedUnzippedMiB": round((total + sum(p.stripped_bytes for p in parts)) / 2**20, 1),
        "limitBytes": LAMBDA_UNZIPPED_LIMIT,
        "headroomMiB": round((LAMBDA_UNZIPPED_LIMIT - total) / 2**20, 1),
        "withinLimit": total <= LAMBDA_UNZIPPED_LIMIT,
        "commonLayerBytecode": f"compiled by {python312}" if python312 else "none: no python3.12 found",
        "smokeImport": smoke or ("skipped" if args.no_smoke else "skipped: no python3.12 on PATH"),
    }
    text = json.dumps(report, indent=1)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if not report["withinLimit"]:
        sys.stderr.write(
            f"the training function is {report['totalUnzippedMiB']} MiB unzipped: over 250 MiB\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
