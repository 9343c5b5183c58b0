"""Every process that runs Prepare starts with arrow on the system allocator
(`recs.training.prepare.arrow_memory`): the prepare function, the training image (Prepare in the
container) and the benchmark that measures Prepare's memory."""

from __future__ import annotations

import re
from typing import Any

from bench.prepare_speed import child_environment
from recs.training.prepare.arrow_memory import ARROW_MEMORY_ENVIRONMENT
from recs_tools.checkout import repo_root


def test_the_prepare_function_starts_with_arrows_allocator_chosen(resources: dict[str, Any]) -> None:
    # Given the prepare function's environment / Then it chooses arrow's allocator as Prepare's
    variables = resources["PrepareFunction"]["Properties"]["Environment"]["Variables"]
    assert ARROW_MEMORY_ENVIRONMENT.items() <= variables.items()


def test_the_training_image_starts_with_arrows_allocator_chosen() -> None:
    # Given the training image (it runs Prepare in the container) / Then its environment chooses it
    dockerfile = (repo_root() / "infra/container/Dockerfile").read_text(encoding="utf-8")
    (env,) = re.findall(r"^ENV ((?:.*\\\n)*.*)$", dockerfile, re.M)
    assigned = dict(re.findall(r"(\w+)=(\S+)", env))
    assert ARROW_MEMORY_ENVIRONMENT.items() <= assigned.items()


def test_the_benchmark_measures_prepare_as_it_is_deployed() -> None:
    # Given the environment of the benchmark's Prepare processes / Then it chooses the same
    assert ARROW_MEMORY_ENVIRONMENT.items() <= child_environment().items()
