"""One training run at a time: the lease a run takes first and gives back on every way out.

Two runs at once (a manual start during the scheduled one, a retried schedule) would both
purge, both publish and race to flip the pointer. The first step of the workflow takes a
named lease that expires (so a run that dies without releasing it blocks the next one only
until then); a second run is refused and ends cleanly. Cleanup, RecordFailure and
RecordRefusal give it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recs.ports import LeaseStore
from recs.training.errors import TrainingInProgressError

LEASE_NAME = "training"


@dataclass(frozen=True)
class TrainingLease:
    store: LeaseStore
    clock: Callable[[], datetime]
    ttl_seconds: int

    def take(self, holder: str) -> dict[str, Any]:
        """The lease for `holder` (taking it again is harmless: Step Functions may retry the step)."""
        now = self.clock().timestamp()
        expires_at = now + self.ttl_seconds
        other = self.store.acquire(LEASE_NAME, holder, now, expires_at)
        if other is not None:
            raise TrainingInProgressError(f"training run {other} is in progress; this run did nothing", other)
        return {"holder": holder, "expiresAt": int(expires_at)}

    def give_back(self, holder: str | None) -> bool:
        """Release the lease the run holds, if any; False when it had none or lost it to expiry."""
        return bool(holder) and self.store.release(LEASE_NAME, str(holder))
