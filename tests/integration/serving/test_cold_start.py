"""The recommend function's cold start: no numerical libraries, no network, no connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from recs_tools.local.redis_server import free_port
from recs_tools.local.stack import LocalStack

# matplotlib and tqdm: the operator tools' (`recs report`, the CLI), never in a function.
HEAVY = ("numpy", "scipy", "pandas", "pyarrow", "matplotlib", "tqdm")
# Modules of other functions: building their pydantic models costs import time serving never uses.
FOREIGN = (
    "recs.contracts.events",
    "recs.ingest.service",
    "recs.training",
    "recs.privacy",
    "recs_tools.reports",
    "recs_tools.cli",
)
_PROBE = f"""
import json, sys
import app
heavy = [m for m in {HEAVY!r} if m in sys.modules]
foreign = [m for m in {FOREIGN!r} if m in sys.modules]
print(json.dumps({{"heavy": heavy, "foreign": foreign, "service": type(app.service).__name__}}))
"""


def test_the_handler_imports_without_numerical_libraries_or_network(stack: LocalStack) -> None:
    # Given the recommend function's environment from template.yaml, with a cache nobody listens on
    # and no AWS endpoint at all (the subprocess has no moto)
    function = stack.function("RecommendFunction")
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
        **function.environment,
        "CACHE_URL": f"redis://127.0.0.1:{free_port()}/0",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
    }
    # When a fresh interpreter imports the handler module, as a Lambda cold start does
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=function.code_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it succeeds without touching the network, and no numerical library (nor another
    # function's models) was loaded
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe == {"heavy": [], "foreign": [], "service": "RecommendService"}
