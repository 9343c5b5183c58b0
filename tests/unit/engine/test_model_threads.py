"""BLAS thread pinning degrades to one thread, loudly, when it cannot pin."""

from __future__ import annotations

import importlib
import types

import pytest

from recs.engine import _threads


def test_single_thread_needs_no_pinning(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no BLAS variables / When one thread is asked for / Then it is granted silently
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    with _threads.single_threaded_blas(1) as usable:
        assert usable == 1


def test_environment_pin_allows_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given OPENBLAS_NUM_THREADS=1 / When two threads are asked for / Then both are granted
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    with _threads.single_threaded_blas(2) as usable:
        assert usable == 2


def test_without_threadpoolctl_it_warns_and_runs_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no pinning variable and threadpoolctl missing
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    real_import = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> types.ModuleType:
        if name == "threadpoolctl":
            raise ImportError(name)
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    # When two threads are asked for / Then a RuntimeWarning says why and one thread is granted
    with pytest.warns(RuntimeWarning, match="threadpoolctl"), _threads.single_threaded_blas(2) as usable:
        assert usable == 1


def test_even_one_thread_is_pinned_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no BLAS variables and a stand-in for threadpoolctl that records its limits
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    seen: list[tuple[int, str]] = []

    class Limits:
        def __init__(self, limits: int, user_api: str) -> None:
            seen.append((limits, user_api))

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    fake = types.ModuleType("threadpoolctl")
    fake.threadpool_limits = Limits  # type: ignore[attr-defined]
    real_import = importlib.import_module

    def fake_import(name: str, package: str | None = None) -> types.ModuleType:
        return fake if name == "threadpoolctl" else real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    # When one thread is asked for with even_for_one
    with _threads.single_threaded_blas(1, even_for_one=True) as usable:
        # Then the one thread is granted and BLAS is limited to one thread meanwhile
        assert usable == 1
    assert seen == [(1, "blas")]
