"""This process's resident memory as Linux reports it, for the measuring tools and benchmarks:
a ``/proc/self/status`` figure, and its peak started over so that a later peak is one piece of
work's own."""

from __future__ import annotations


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> int:
    """Start the peak (``VmHWM``) over from now, so that a later peak is the measured work's own;
    returns the RSS now, in KiB, to measure it above."""
    before = status_kib("VmRSS")
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as clear:
        clear.write("5")
    return before


def resident_parts() -> dict[str, int]:
    """This process's resident memory now, in KiB, by what holds it (``/proc/self/smaps``):
    ``files`` (mapped files: the code of the libraries it runs, and any file it maps), ``heap``
    (malloc's main heap, in use or free), ``maps`` (every other private memory: anonymous maps,
    which hold what the code maps for itself, large allocations and other malloc arenas, and the
    stack)."""
    parts = {"files": 0, "heap": 0, "maps": 0}
    part = "maps"
    with open("/proc/self/smaps", encoding="utf-8") as smaps:
        for line in smaps:
            head = line.split(maxsplit=5)
            if head[0].endswith(":"):
                if head[0] == "Rss:":
                    parts[part] += int(head[1])
                continue
            # A mapping's first line: address range, permissions, offset, device, inode[, path].
            path = head[5].strip() if len(head) > 5 else ""
            part = "heap" if path == "[heap]" else "files" if path.startswith("/") else "maps"
    return parts
