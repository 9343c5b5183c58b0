"""template.yaml and samconfig.toml as the deploy tests read them."""

from __future__ import annotations

from typing import Any

import pytest

from recs_tools.checkout import repo_root
from recs_tools.local.cfn import load_template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(repo_root() / "template.yaml")


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found
