"""What a long training run tells whoever watches it: the stage it is in and each ALS sweep.

The domain calls these hooks and knows nothing of how they are shown (the `recs` CLI draws
progress bars with them; the Lambda functions pass nothing and the hooks do nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recs.engine.als import IterationCallback


def _ignore(_stage: str) -> None:
    return None


def _ignore_trial(_number: int, _record: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class TrainingProgress:
    #: Called with a short description when a stage starts.
    stage: Callable[[str], None] = _ignore
    #: Called with ``(iteration, seconds so far)`` after each sweep of the final ALS fit.
    sweep: IterationCallback | None = None
    #: Called with the number of users whose lists were just written (offline outputs).
    users_written: Callable[[int], None] | None = None
    #: Called with ``(trial number, record)`` after each fitted trial of the parameter search.
    trial: Callable[[int, dict[str, Any]], None] = _ignore_trial
