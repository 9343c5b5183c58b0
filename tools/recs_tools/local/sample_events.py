"""The sample events in `events/`: API Gateway (HTTP API, payload 2.0) requests and Step Functions
task payloads. They drive the integration tests and `sam local invoke -e events/<file>.json`.

Each area keeps its samples in `recs_tools.local.samples.<area>`; `python -m recs_tools.local.sample_events`
rewrites events/, and a test fails when the files and the modules disagree, so the samples always
have the exact shape the local API server produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from recs_tools.local.samples import admin, ingest, prepare, privacy, recommend, train


def sample_events() -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = {}
    for module in (recommend, ingest, privacy, admin, prepare, train):
        events.update(module.samples())
    return events


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, event in sample_events().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(event, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("events")
    for path in write(target):
        print(path)
