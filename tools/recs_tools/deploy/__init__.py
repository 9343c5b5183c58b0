"""Operating a deployed stack: its smoke test, model rollback, cost model and stack lookups.

Each command module exposes ``configure(parser)`` and ``run(args)`` (wired into ``recs`` by
recs_tools.cli) and ``main(argv)`` for ``python -m recs_tools.deploy.<command>``.
"""
