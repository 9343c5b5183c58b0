"""The benchmark suite: ``python -m bench --quick | --full`` (``make bench-quick`` / ``make bench``).

Writes ``bench/results/<name>.json`` and generates ``docs/benchmarks.md``; see `bench.registry`.
"""
