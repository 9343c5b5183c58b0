"""``python -m layer_build.packaging`` (``make package-check``): build the training and prepare
functions' deployment artifacts for Lambda's platform and check each fits Lambda's limit.

Builds what ``sam build`` puts in the zip archives of the TrainFunction, the PrepareFunction and
their layers, for ``python3.12`` on ``x86_64`` (manylinux wheels only, never this machine's own
builds):

* CommonLayer: ``layers/common/requirements.txt`` plus the ``recs`` package under ``python/``,
  stripped of what Lambda never reads, then compiled to bytecode (``build_common_layer``);
* ScienceLayer: ``layers/science/requirements.txt`` (numpy, scipy, ...) under ``python/``,
  stripped (``build_science_layer``);
* ArrowLayer: ``layers/arrow/requirements.txt`` (numpy, pyarrow) under ``python/``, stripped,
  pyarrow also of the parts Prepare never loads (``build_arrow_layer``);
* TrainFunction: ``functions/train/`` (with CommonLayer and ScienceLayer);
* PrepareFunction: ``functions/prepare/`` (with CommonLayer and ArrowLayer: pyarrow does not fit
  beside scipy in one function);
* PurgeFunction and ExportFunction: ``functions/privacy/`` (with CommonLayer and ArrowLayer: they
  read the lake's Parquet objects; the purge's artifact scrub needs numpy, not scipy).

``sam build`` builds the three layers with the same functions (``layers/Makefile`` runs them
through ``layer_build``), so what is measured here is what is deployed.

Stripped means: ``__pycache__`` left by the build machine, test suites inside packages, ``.pyi``
stubs, and boto3/botocore/s3transfer, which the Lambda Python runtime provides (a layer copy would
shadow the runtime's boto3 with another botocore). The common layer then gets bytecode compiled by
Python 3.12: Lambda's ``/opt`` is read-only, so a layer without ``__pycache__`` is compiled from
source on every cold start (docs/benchmarks.md measures the difference). The science and arrow
layers stay source only: training is a batch step, and the science layer's bytecode would take
the training function past the limit. The check measures each part unzipped and zipped, and
fails when a function plus its layers exceed Lambda's 250 MB unzipped limit. With a Python 3.12
interpreter on this machine it also imports each function's code from its built layers, as the
Lambda runtime would, and runs Prepare's columnar read and Parquet round trip there.

Prints a JSON report; ``--json FILE`` writes it too.
"""

from __future__ import annotations

import argparse
import fnmatch
import io
import json
import os
import re
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
#: What Prepare never loads from pyarrow, by file name anywhere under ``pyarrow/``, each with why
#: it may go. Prepare imports ``pyarrow``, ``pyarrow.compute``, ``pyarrow.json`` and
#: ``pyarrow.parquet`` (which imports ``pyarrow.fs`` and, to read, ``pyarrow.dataset``): their
#: extension modules (``lib``, ``_compute``, ``_json``, ``_parquet``, ``_fs``, ``_dataset``,
#: ``_dataset_parquet``, ``_acero``, ...) each need, by ``readelf -d``, libarrow_python,
#: libarrow_substrait, libarrow_dataset, libparquet, libarrow_acero, libarrow_compute and
#: libarrow, which all stay. The modules below are imported by nothing Prepare imports, or only
#: inside ``try: ... except ImportError`` (``pyarrow.fs`` for the filesystems, ``pyarrow.dataset``
#: for ORC and Parquet encryption), which then leaves that one feature out.
PYARROW_UNUSED_FILES: tuple[tuple[str, str], ...] = (
    ("libarrow_flight.so*", "Arrow Flight RPC (about 32 MB): needed by _flight and its glue alone"),
    ("libarrow_python_flight.so*", "Flight's Python glue: needed only by _flight"),
    ("_flight.*", "pyarrow.flight's extension module: Prepare serves and calls no Flight endpoint"),
    ("libarrow_s3.so*", "the S3 filesystem with its AWS SDK (about 17 MB): needed only by _s3fs"),
    ("_s3fs.*", "pyarrow.fs.S3FileSystem: Prepare reads S3 through boto3 (recs.adapters.s3)"),
    ("_gcsfs.*", "pyarrow.fs.GcsFileSystem: no Google Cloud Storage"),
    ("_azurefs.*", "pyarrow.fs.AzureFileSystem: no Azure storage"),
    ("_hdfs.*", "pyarrow.fs.HadoopFileSystem: no HDFS"),
    ("_cuda.*", "pyarrow.cuda: no GPU in Lambda"),
    ("_orc.*", "pyarrow.orc: the lake is NDJSON, the kept days Parquet"),
    ("_dataset_orc.*", "pyarrow.dataset's ORC format"),
    ("_parquet_encryption.*", "Parquet modular encryption: the kept days are plain Parquet (SSE-S3)"),
    ("_dataset_parquet_encryption.*", "pyarrow.dataset's Parquet encryption options"),
    ("libarrow_python_parquet_encryption.so*", "the encryption's glue: needed by _parquet_encryption alone"),
    ("_pyarrow_cpp_tests.*", "the runner of pyarrow's own C++ tests"),
    ("*.pyx", "Cython sources, read only when building an extension against pyarrow"),
    ("*.pxd", "Cython declarations, read only when building an extension against pyarrow"),
    ("*.pxi", "Cython include files, read only when building an extension against pyarrow"),
)
#: Directories of ``pyarrow/`` used only to build extensions against it.
PYARROW_UNUSED_DIRS: tuple[tuple[str, str], ...] = (
    ("include", "C++ headers of Arrow and of pyarrow's C++ API"),
    ("src", "the C++ sources of libarrow_python"),
)
#: ``libX.so.N``: the name a library's users record (DT_NEEDED), the only one the loader opens.
_SONAME = re.compile(r"^(lib.+\.so)\.(\d+)$")
#: ``libX.so.N.m.p``: the same library under its full version, for the linker.
_FULL_VERSION = re.compile(r"^(lib.+\.so)\.(\d+)(?:\.\d+)+$")


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


def build_arrow_layer(source: Path, out: Path, *, pip: Sequence[str]) -> int:
    """The arrow layer as Lambda receives it (``sam build`` runs this through ``layers/Makefile``):
    numpy and pyarrow under ``out/python``, stripped, pyarrow also of what Prepare never loads
    (`strip_pyarrow`); source only, like the science layer. Returns the bytes stripped."""
    target = out / "python"
    pip_install(source / "requirements.txt", target, pip=pip)
    removed = strip(target, drop_packages=RUNTIME_PROVIDED)
    return removed + strip_pyarrow(target / "pyarrow")


def strip_pyarrow(package: Path) -> int:
    """Delete from the ``pyarrow`` package what Prepare never loads (`PYARROW_UNUSED_FILES`,
    `PYARROW_UNUSED_DIRS`) and the wheel's link-time copies of its libraries
    (`link_time_copies`); returns the bytes removed."""
    if not package.is_dir():
        return 0
    removed = 0
    for name, _why in PYARROW_UNUSED_DIRS:
        if (package / name).is_dir():
            removed += _delete(package / name)
    patterns = [pattern for pattern, _why in PYARROW_UNUSED_FILES]
    for path in sorted(package.rglob("*")):
        if path.is_file() and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns):
            removed += _delete(path)
    for path in link_time_copies(package):
        removed += _delete(path)
    for directory, _, _ in os.walk(package, topdown=False):
        if not any(Path(directory).iterdir()):
            Path(directory).rmdir()  # held only what went (pyarrow/includes: Cython declarations)
    return removed


def link_time_copies(directory: Path) -> list[Path]:
    """Copies of a library under the names only a linker reads (``libX.so``, ``libX.so.N.m.p``)
    where the copy under its soname (``libX.so.N``) is beside them.

    A wheel cannot hold symbolic links, so pyarrow's wheel carries libarrow_python three times
    over. Extension modules and libraries record the soname (``readelf -d``: NEEDED
    ``libarrow_python.so.2600``), and the loader opens that name alone."""
    names = {path.name for path in directory.iterdir() if path.is_file()}
    sonames: dict[str, set[str]] = {}
    for name in names:
        if match := _SONAME.match(name):
            sonames.setdefault(match.group(1), set()).add(match.group(2))
    copies: set[str] = set()
    for name in names:
        full = _FULL_VERSION.match(name)
        if name in sonames or (full and full.group(2) in sonames.get(full.group(1), set())):
            copies.add(name)
    return [directory / name for name in sorted(copies)]


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


#: Each measured function: its code (template.yaml ``CodeUri``) and its layers (``Layers``).
FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "TrainFunction": ("functions/train", ("CommonLayer", "ScienceLayer")),
    # pyarrow does not fit beside scipy: Prepare runs on its own function, without scipy.
    "PrepareFunction": ("functions/prepare", ("CommonLayer", "ArrowLayer")),
    # The erasure purge and the export job read the lake's Parquet objects, without scipy too.
    "PurgeFunction": ("functions/privacy", ("CommonLayer", "ArrowLayer")),
    "ExportFunction": ("functions/privacy", ("CommonLayer", "ArrowLayer")),
}


def build(root: Path, out: Path, *, pip: Sequence[str], python: str | None) -> list[PartSize]:
    """Build the three layers and the two functions' code under ``out`` and measure them (the
    common layer's bytecode compiled by ``python``, a Python 3.12, when given)."""
    parts: list[PartSize] = []

    common = out / "CommonLayer"
    stripped = build_common_layer(root / "layers/common", common, pip=pip, python=python)
    parts.append(_sized("CommonLayer", common, stripped))

    science = out / "ScienceLayer"
    stripped = build_science_layer(root / "layers/science", science, pip=pip)
    parts.append(_sized("ScienceLayer", science, stripped))

    arrow = out / "ArrowLayer"
    stripped = build_arrow_layer(root / "layers/arrow", arrow, pip=pip)
    parts.append(_sized("ArrowLayer", arrow, stripped))

    for name, (code, _layers) in FUNCTIONS.items():
        function = out / name
        shutil.copytree(root / code, function, ignore=_source_ignore)
        parts.append(_measure(name, function, drop=()))
    return parts


def function_sizes(parts: Sequence[PartSize]) -> dict[str, dict[str, object]]:
    """Per function of `FUNCTIONS`: its code plus its layers, unzipped, against Lambda's limit."""
    by_name = {part.name: part for part in parts}
    sizes: dict[str, dict[str, object]] = {}
    for name, (_code, layers) in FUNCTIONS.items():
        members = [by_name[name], *(by_name[layer] for layer in layers)]
        total = sum(part.unzipped_bytes for part in members)
        sizes[name] = {
            "parts": [part.name for part in members],
            "unzippedBytes": total,
            "unzippedMiB": round(total / 2**20, 1),
            "unstrippedUnzippedMiB": round((total + sum(p.stripped_bytes for p in members)) / 2**20, 1),
            "headroomBytes": LAMBDA_UNZIPPED_LIMIT - total,
            "headroomMiB": round((LAMBDA_UNZIPPED_LIMIT - total) / 2**20, 1),
            "withinLimit": total <= LAMBDA_UNZIPPED_LIMIT,
        }
    return sizes


def _source_ignore(_directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}


def _measure(name: str, path: Path, *, drop: Iterable[str]) -> PartSize:
    stripped = strip(path / "python" if (path / "python").is_dir() else path, drop_packages=drop)
    return _sized(name, path, stripped)


def _sized(name: str, path: Path, stripped: int) -> PartSize:
    files, size = tree_size(path)
    return PartSize(name, files, size, zipped_size(path), stripped)


#: The privacy functions' checks begin with a Parquet lake object in memory holding two users'
#: events, one of them the visitor to erase or export (tombstones are the pseudonyms themselves).
_PRIVACY_LAKE = """\
import sys
import pyarrow, pydantic, aws_lambda_powertools
from recs import lake_format
from recs.privacy.lake_purge import LakePurge
from recs.privacy.visitors import ErasedVisitors
class Lake(dict):
    def get(self, key): return self[key]
    def put(self, key, data, content_type=""): self[key] = data
    def list_keys(self, prefix): return iter(sorted(k for k in self if k.startswith(prefix)))
    def delete(self, keys): return len([self.pop(k) for k in keys])
GONE, KEPT, KEY = "u_" + "1" * 32, "u_" + "2" * 32, "events/2026/11/26/03/a"
events = [{"eventId": f"e{n}", "eventType": "view", "userId": user} for n, user in ((1, GONE), (2, KEPT))]
lake = Lake({KEY: lake_format.encode_records(events)})
visitors = ErasedVisitors({GONE}, lambda pseudonym: pseudonym)
"""

#: What each function's import check runs: the function's code, from its built layers alone.
_SMOKE: dict[str, str] = {
    "TrainFunction": (
        "import numpy, scipy.sparse, scipy.linalg, pydantic, aws_lambda_powertools\n"
        "import recs.training.pipeline, recs.training.build, recs.engine\n"
        "print(numpy.__version__, scipy.__version__)"
    ),
    # pyarrow's own JSON reader and Parquet round trip, then Prepare's: a lake object decoded as
    # columns, kept as a day's Parquet and read back; all without scipy, which is not on the path.
    "PrepareFunction": """\
import gzip, io, json, sys
import numpy, pyarrow, pyarrow.compute, pyarrow.json, pyarrow.parquet, pydantic, aws_lambda_powertools
table = pyarrow.json.read_json(io.BytesIO(b'{"a": "x", "n": 1}\\n{"a": "y", "n": 2}\\n'))
sink = io.BytesIO()
pyarrow.parquet.write_table(table, sink)
assert pyarrow.parquet.read_table(pyarrow.BufferReader(sink.getvalue())).equals(table)
import recs.training.prepare_step
from recs.training.prepare.columnar import block_of, usable_of_object
from recs.training.prepare.days import from_parquet, to_parquet
events = [
    {"eventId": f"00000000-0000-4000-8000-{i:012d}", "eventType": "view", "userId": f"user_{i % 2}",
     "productId": f"sku_{i % 3}", "timestamp": f"2026-11-26T03:00:0{i}Z"}
    for i in range(5)
]
usable = usable_of_object(gzip.compress("\\n".join(json.dumps(e) for e in events).encode()))
kept = from_parquet(to_parquet(usable))
assert kept.table.equals(usable.table) and kept.read == 5 and kept.malformed == 0
assert sorted(block_of(kept).items) == ["sku_0", "sku_1", "sku_2"]
assert "scipy" not in sys.modules
print(numpy.__version__, pyarrow.__version__)
""",
    # The purge: a Parquet lake object rewritten without an erased user, and a saved model's
    # user rows scrubbed as arrays; all without scipy.
    "PurgeFunction": _PRIVACY_LAKE
    + """\
import numpy
import recs.privacy.purge, recs.training.privacy.artifact_scrub
from recs.training.privacy import rows
outcome = LakePurge(lake, "events/", visitors).rewrite(sorted(lake))
assert outcome.records_removed == 1 and outcome.objects_rewritten == 1
assert [r["userId"] for r in lake_format.records(lake[KEY])] == [KEPT]
model = {"__model__": numpy.array("als"), "__params__": numpy.array("{}"),
         "user_factors": numpy.eye(2, dtype=numpy.float32), "item_factors": numpy.ones((3, 2), numpy.float32)}
kept = rows.read_npz(rows.write_npz(rows.model_without_rows(model, numpy.array([False, True]))))
assert kept["user_factors"].tolist() == [[0.0, 1.0]]
assert "scipy" not in sys.modules
print(numpy.__version__, pyarrow.__version__)
""",
    # The export job: the exported user's records read from a Parquet lake object.
    "ExportFunction": _PRIVACY_LAKE
    + """\
import recs.privacy.export_job
assert [r["eventId"] for r in LakePurge(lake, "events/", visitors).records(sorted(lake))] == ["e1"]
assert "scipy" not in sys.modules
print(pyarrow.__version__)
""",
}


def smoke_import(out: Path, python: str, function: str = "TrainFunction") -> str:
    """Import ``function``'s code from its built layers (`FUNCTIONS`) with a Python 3.12
    interpreter and run its check (`_SMOKE`); returns what the check prints."""
    _code, layers = FUNCTIONS[function]
    paths = [out / function, *(out / layer / "python" for layer in layers)]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    command = [python, "-S", "-c", _SMOKE[function]]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        failed = f"{function}'s code does not run from its built layers on {python}"
        raise RuntimeError(f"{failed}:\n{result.stderr[-2000:]}")
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
        smoke: dict[str, str] = {}
        if python312 and not args.no_smoke:
            smoke = {function: smoke_import(out, python312, function) for function in FUNCTIONS}
    functions = function_sizes(parts)
    skipped = "skipped" if args.no_smoke else "skipped: no python3.12 on PATH"
    for function, size in functions.items():
        size["smokeImport"] = smoke.get(function, skipped)
    report = {
        "target": f"python{PYTHON_VERSION} x86_64 ({', '.join(PLATFORMS)})",
        "parts": [asdict(p) for p in parts],
        "functions": functions,
        "limitBytes": LAMBDA_UNZIPPED_LIMIT,
        "withinLimit": all(size["withinLimit"] for size in functions.values()),
        "commonLayerBytecode": f"compiled by {python312}" if python312 else "none: no python3.12 found",
    }
    text = json.dumps(report, indent=1)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    over = [name for name, size in functions.items() if not size["withinLimit"]]
    for name in over:
        sys.stderr.write(f"{name} is {functions[name]['unzippedMiB']} MiB unzipped: over 250 MiB\n")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
