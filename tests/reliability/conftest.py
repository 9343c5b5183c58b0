"""One trained local stack (a synthetic shop ingested and one real training run) and its HTTP
API, shared by the read-mostly reliability tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.reliability.world import TrainedWorld, trained_world


@pytest.fixture(scope="module")
def world() -> Iterator[TrainedWorld]:
    with trained_world() as trained:
        yield trained
