"""The reliability suite's measurements (issue 8): API fuzzing, local load with the cache up and
killed mid-run, and events sent vs records in the lake under Firehose faults.

``python -m bench.reliability [--quick]`` (``make reliability``) runs them all on the local stack
and writes ``bench/results/reliability.json`` and ``docs/reliability.md``; the tests under
``tests/reliability/`` run the same code in a short, bounded form inside ``make test``.
"""
