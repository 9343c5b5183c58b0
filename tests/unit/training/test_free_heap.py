"""Prepare hands malloc's free heap back between its phases (`release_free_heap`), where the C
library can, and says where it cannot."""

from __future__ import annotations

import pytest

from recs.training.prepare import free_heap


def test_the_free_heap_is_released_where_glibc_runs() -> None:
    # Given a heap with freed blocks in it (many small buffers, every other one let go)
    buffers = [bytearray(64 << 10) for _ in range(200)]
    del buffers[::2]
    # When released / Then glibc (this machine's and Lambda's C library) was asked
    assert free_heap.release_free_heap() is True
    assert len(buffers) == 100


def test_nothing_is_asked_of_a_c_library_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a C library with no malloc_trim (musl, macOS) / When asked / Then it says so, and nothing fails
    monkeypatch.setattr(free_heap, "_TRIM", None)
    assert free_heap.release_free_heap() is False
