"""Where the project's checkout is, for the commands that work on it (standard library only:
the layer build imports it under a bare Python 3.12)."""

from __future__ import annotations

from pathlib import Path


def repo_root() -> Path:
    """The checkout holding template.yaml (the installed package lives under layers/common)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "template.yaml").is_file():
            return parent
    raise FileNotFoundError("template.yaml not found above the recs package")
