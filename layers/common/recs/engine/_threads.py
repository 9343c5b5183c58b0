"""Keep BLAS single-threaded while our own thread pool runs.

The ALS blocks call many small BLAS kernels from several Python threads. If OpenBLAS
also starts its own threads for each call, the two pools fight over the cores and a
sweep gets 2-4x slower (measured on 2 cores). ``threadpoolctl`` (an optional
dependency, the same one benfred/implicit uses) switches BLAS to one thread for the
duration; without it, and without ``OPENBLAS_NUM_THREADS=1`` style variables, the
caller is told and the work runs on one thread, which is still correct and only
loses the parallel speed-up.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _env_pins_single_thread() -> bool:
    return any(os.environ.get(name) == "1" for name in _ENV_VARS)


@contextmanager
def single_threaded_blas(num_threads: int, *, even_for_one: bool = False) -> Iterator[int]:
    """Limit BLAS to one thread while ``num_threads`` Python threads do the work.

    Parameters
    ----------
    num_threads
        Threads the caller wants to run.
    even_for_one
        Pin BLAS also when the caller runs a single thread: work made of many small BLAS
        calls (the ALS solver's batched products) gains nothing from BLAS's own threads, which
        keep another core busy (measured on 2 cores: the same wall time and twice the CPU time
        when idle; 0.68 instead of 0.27 s per iteration when another process used a core).

    Yields
    ------
    int
        Threads the caller may actually use: ``num_threads``, or 1 when BLAS threads
        cannot be limited.
    """
    if (num_threads <= 1 and not even_for_one) or _env_pins_single_thread():
        yield num_threads
        return
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        if num_threads <= 1:  # nothing is lost but the pinning's speed-up: no warning
            yield num_threads
            return
        warnings.warn(
            f"num_threads={num_threads} needs BLAS limited to one thread: install threadpoolctl or set "
            "OPENBLAS_NUM_THREADS=1. Running on one thread instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        yield 1
        return
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield num_threads
