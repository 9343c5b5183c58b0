"""Fixtures: a local stack with the serving test world published (tests/integration/serving/world.py)."""

from __future__ import annotations

import pytest

from recs_tools.local.stack import LocalStack
from tests.integration.serving.world import World


@pytest.fixture
def world(stack: LocalStack) -> World:
    """Every list of the test world published and the pointer flipped."""
    published = World(stack)
    published.publish_everything()
    return published


@pytest.fixture
def bare_world(stack: LocalStack) -> World:
    """A stack where nothing has been published yet."""
    return World(stack)
