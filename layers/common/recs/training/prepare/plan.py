"""Where Prepare runs: on the prepare function, or in the training container for a large window.

Decided before Prepare (the workflow's PlanPrepare step, on the prepare function) from what is
cheap to know up front: the size of the window's lake objects, from S3's listing alone (one
ListObjectsV2 page per 1,000 objects of each arrival day; no object is read). Prepare's time and
memory grow with the window's events (it builds every interaction of the window on each run, the
kept days included: docs/training.md, Prepare), and the lake's bytes are those events as Firehose
delivered them, so the window's size says how long Prepare will take before it starts, on the
first run (nothing kept yet) as on every later one. The previous run's counts would not: a first
run has none, a failed run leaves none, and they are a day old.

The bytes per event depend on the objects' format, which the listing does not tell: a Parquet
object (Firehose's record format conversion) holds an event in other bytes than the NDJSON it
delivered before (gzip in AWS, plain under moto and the local stack; docs/benchmarks.md, Prepare,
measures all three on the benchmark's lake), so a threshold set from one format's bytes stands for
another number of events in the other, and a window that began before the conversion was turned
on holds both until it has moved past it (docs/deploy.md, Prepare in the training container, says
how to set the threshold).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from recs.ports import SizedObjects
from recs.training.workflow import PreparePlan, PrepareRequest


def window_day_prefixes(lake_prefix: str, start: datetime, end: datetime) -> Iterator[str]:
    """The lake folders Prepare reads for a window (`recs.training.prepare.days.PreparedDays`:
    every arrival day from ``start``'s through ``end``'s)."""
    day, last = start.date(), end.date()
    while day <= last:
        yield f"{lake_prefix}{day:%Y/%m/%d}/"
        day += timedelta(days=1)


class PreparePlanner:
    def __init__(self, lake: SizedObjects, lake_prefix: str, window_days: int, min_lake_bytes: int) -> None:
        self.lake = lake
        self.lake_prefix = lake_prefix
        self.window_days = window_days
        self.min_lake_bytes = min_lake_bytes

    def plan(self, request: PrepareRequest, now: datetime) -> PreparePlan:
        """The container when the window's lake objects add up to ``min_lake_bytes`` or more;
        with a threshold of 0 the lake is not listed at all (a stack without the path is as it
        was, save this step)."""
        if self.min_lake_bytes <= 0:
            return PreparePlan(engine="lambda", lakeBytes=0, lakeObjects=0, minLakeBytes=0, request=request)
        size = objects = 0
        start = now - timedelta(days=self.window_days)
        for prefix in window_day_prefixes(self.lake_prefix, start, now):
            for _, bytes_ in self.lake.list_sizes(prefix):
                size += bytes_
                objects += 1
        return PreparePlan(
            engine="container" if size >= self.min_lake_bytes else "lambda",
            lakeBytes=size,
            lakeObjects=objects,
            minLakeBytes=self.min_lake_bytes,
            request=request,
        )
