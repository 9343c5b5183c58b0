"""``python3.12 -m layer_build common|science|arrow``: how ``sam build`` builds the three layers.

template.yaml gives every layer ``ContentUri: layers/`` and ``BuildMethod: makefile``; SAM then
runs ``layers/Makefile`` (targets ``build-CommonLayer``, ``build-ScienceLayer`` and
``build-ArrowLayer``) in a copy of ``layers/`` with ``ARTIFACTS_DIR`` set, and the Makefile runs
this module with the ``python3.12`` on ``PATH`` (``make build`` puts pyenv's there). Each layer is
then exactly what ``make package-check`` measures (`layer_build.packaging`): Lambda-platform
wheels under ``python/``, stripped of what the runtime provides or never reads (the arrow layer's
pyarrow also of what Prepare never loads); the common layer also gets ``recs`` and Python 3.12
bytecode, because Lambda cannot write ``__pycache__`` under ``/opt`` and would otherwise compile
every module again on each cold start.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from layer_build.packaging import build_arrow_layer, build_common_layer, build_science_layer, tree_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3.12 -m layer_build", description=__doc__.split("\n\n")[0])
    parser.add_argument("layer", choices=("common", "science", "arrow"), help="which layer to build")
    parser.add_argument("--source", type=Path, required=True, help="layers/<layer> (or SAM's copy of it)")
    parser.add_argument("--out", type=Path, required=True, help="the layer's artifact directory")
    args = parser.parse_args(argv)
    python = sys.executable
    pip = [python, "-m", "pip"]
    if args.layer == "common":
        stripped = build_common_layer(args.source, args.out, pip=pip, python=python)
    elif args.layer == "science":
        stripped = build_science_layer(args.source, args.out, pip=pip)
    else:
        stripped = build_arrow_layer(args.source, args.out, pip=pip)
    files, size = tree_size(args.out)
    mib = 2**20
    unzipped, removed = f"{size / mib:.1f} MiB unzipped", f"{stripped / mib:.1f} MiB stripped"
    print(f"{args.layer} layer: {files} files, {unzipped} ({removed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
