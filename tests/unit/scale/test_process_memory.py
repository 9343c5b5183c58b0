"""What holds the process's resident memory (recs_tools.process_memory.resident_parts), as the
Prepare benchmark splits its peak: mapped files, malloc's heap, other private maps."""

from __future__ import annotations

import mmap
import sys
import tempfile

import pytest

from recs_tools.process_memory import resident_parts, status_kib

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/smaps is Linux's")

MIB = 1024  # KiB


def test_the_parts_add_up_to_the_resident_memory() -> None:
    # Given this process as it is
    # When its resident memory is split by what holds it
    parts = resident_parts()
    # Then the parts sum to what the kernel reports in all (the two read a moment apart)
    total = status_kib("VmRSS")
    assert set(parts) == {"files", "heap", "maps"}
    assert abs(sum(parts.values()) - total) <= max(total // 50, 2 * MIB)


def test_an_anonymous_map_counts_as_maps_once_written() -> None:
    # Given a private anonymous map of 16 MiB, not yet written
    pages = mmap.mmap(-1, 16 * 2**20, flags=mmap.MAP_PRIVATE)
    before = resident_parts()
    # When every page of it is written
    for offset in range(0, len(pages), mmap.PAGESIZE):
        pages[offset] = 1
    after = resident_parts()
    # Then the maps hold its 16 MiB more, and neither the files nor the heap do
    assert after["maps"] - before["maps"] >= 15 * MIB
    assert after["files"] - before["files"] < 4 * MIB
    assert after["heap"] - before["heap"] < 4 * MIB
    pages.close()


def test_a_mapped_file_counts_as_files_once_read() -> None:
    # Given a file of 8 MiB mapped, not yet read
    with tempfile.TemporaryFile() as file:
        file.write(b"\x01" * (8 * 2**20))
        file.flush()
        pages = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        before = resident_parts()
        # When every page of it is read
        touched = sum(pages[offset] for offset in range(0, len(pages), mmap.PAGESIZE))
        after = resident_parts()
        # Then the files hold its 8 MiB more, and the maps do not
        assert touched == len(pages) // mmap.PAGESIZE
        assert after["files"] - before["files"] >= 7 * MIB
        assert after["maps"] - before["maps"] < 4 * MIB
        pages.close()
