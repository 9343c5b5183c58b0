"""``python3.12 -m recs.layer_build``: how ``sam build`` builds the common layer.

template.yaml gives CommonLayer ``BuildMethod: makefile``; SAM then runs ``layers/common/Makefile``
(target ``build-CommonLayer``) in a copy of ``layers/common`` with ``ARTIFACTS_DIR`` set, and the
Makefile runs this module with the ``python3.12`` on ``PATH`` (``make build`` puts pyenv's there).
The layer is then exactly what ``make package-check`` measures (`recs.packaging`): Lambda-platform
wheels and ``recs`` under ``python/``, stripped of what the runtime provides or never reads, and
compiled to Python 3.12 bytecode, because Lambda cannot write ``__pycache__`` under ``/opt`` and
would otherwise compile every module again on each cold start.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recs.packaging import build_common_layer, tree_size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3.12 -m recs.layer_build", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--source", type=Path, required=True, help="layers/common (or SAM's copy of it)")
    parser.add_argument("--out", type=Path, required=True, help="the layer's artifact directory")
    args = parser.parse_args(argv)
    python = sys.executable
    stripped = build_common_layer(args.source, args.out, pip=[python, "-m", "pip"], python=python)
    files, size = tree_size(args.out)
    mib = 2**20
    print(f"CommonLayer: {files} files, {size / mib:.1f} MiB unzipped ({stripped / mib:.1f} MiB stripped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
