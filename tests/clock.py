"""The tests' clock: every test process starts at the same instant, whatever the day it runs.

Training windows, the lake's date partitions (moto's Firehose writes them from the clock), event
age checks and version timestamps all read the clock; pinned, a run on any day meets the same
calendar, and a failure reproduces. The clock ticks from there (`tick=True`): timeouts, leases
and ordering by time still behave as in production.
"""

from __future__ import annotations

from datetime import UTC, datetime

# A Monday at noon: a test run, however long, stays inside one day and one week.
PINNED_NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
