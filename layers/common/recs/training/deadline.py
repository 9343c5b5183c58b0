"""When a training step must be done: the Lambda's remaining time, read as the step starts.

The training function runs each step in one invocation of at most 15 minutes; a step that
overruns is killed and its work lost. The Train step is the one whose length the product chooses
(its parameter search spends a budget), so it is told the deadline and leaves time for what
follows the search (`recs.training.evaluate.search.Budget`). The training container has no such
limit and passes none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Deadline:
    """A moment on a monotonic clock (never the wall clock, which may step)."""

    at: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def left(self) -> float:
        """Seconds until the deadline (negative once past it)."""
        return self.at - self.clock()
