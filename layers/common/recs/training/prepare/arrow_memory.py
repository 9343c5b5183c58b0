"""Prepare's processes allocate arrow's memory from the system allocator, not mimalloc.

pyarrow allocates from mimalloc unless ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise. Over
Prepare's pattern (a lake object decoded, its day written as Parquet, everything freed, then the
next) mimalloc kept resident several times what it had in use: at 1M events Prepare's peak was
20 MiB higher with it, with the same events per CPU second (bench/prepare_speed.py; the figures
in docs/training.md, Prepare). ``pyarrow.set_memory_pool`` would not do: arrow's C++ code (the
Parquet writer among it) keeps allocating from the process's default pool, which is chosen once,
from the environment, at arrow's first allocation. So the variable is set where each process
starts: the prepare function's environment (template.yaml), the training image, which also runs
Prepare in the container (infra/container/Dockerfile), and the benchmark's Prepare processes;
tests/unit/deploy/test_prepare_arrow_memory.py keeps the first two equal to this.
"""

from __future__ import annotations

#: The environment a process that runs Prepare starts with.
ARROW_MEMORY_ENVIRONMENT = {"ARROW_DEFAULT_MEMORY_POOL": "system"}
